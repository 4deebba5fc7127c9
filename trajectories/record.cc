#include "trajectories/record.h"

#include <cstdint>
#include <limits>
#include <stdexcept>
#include <string_view>
#include <type_traits>

namespace swebox::traj {

using nlohmann::json;

Usage& Usage::operator+=(const Usage& o) {
  prompt_tokens += o.prompt_tokens;
  completion_tokens += o.completion_tokens;
  api_calls += o.api_calls;
  cost += o.cost;
  return *this;
}

namespace {

constexpr const char* kStatusNames[] = {"submitted", "context_exceeded", "max_turns", "format_error",
                                        "sandbox_timeout", "env_error", "limit"};

template <class T>
struct is_vector : std::false_type {};
template <class E>
struct is_vector<std::vector<E>> : std::true_type {};

// nlohmann's get<int>() of a number outside int's range is a bare static_cast: undefined behaviour
// for a float (1e300, found by fuzz/trajectory), a silent wrap for a wider integer. Integer fields
// (and lists of them) are range-checked first.
template <class T>
void check_range(const json& v, const char* key) {
  if constexpr (std::is_integral_v<T> && !std::is_same_v<T, bool>) {
    using limits = std::numeric_limits<T>;
    bool fits = true;
    if (v.is_number_float()) {
      double d = v.get<double>();
      fits = d >= static_cast<double>(limits::min()) && d < static_cast<double>(limits::max()) + 1.0;
    } else if (v.is_number_unsigned()) {
      fits = v.get<uint64_t>() <= static_cast<uint64_t>(limits::max());
    } else if (v.is_number_integer()) {
      int64_t i = v.get<int64_t>();
      fits = i >= static_cast<int64_t>(limits::min()) && (i < 0 || static_cast<uint64_t>(i) <= static_cast<uint64_t>(limits::max()));
    }
    if (!fits) throw std::runtime_error(std::string("trajectory field '") + key + "': " + v.dump() + " is out of range");
  } else if constexpr (is_vector<T>::value) {
    if (v.is_array())
      for (const json& e : v) check_range<typename T::value_type>(e, key);
  }
}

// Reading helpers: a missing optional field takes its default; a wrong type names the field.
template <class T>
void get(const json& j, const char* key, T& out) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return;
  check_range<T>(*it, key);
  try {
    out = it->get<T>();
  } catch (const json::exception& e) {
    throw std::runtime_error(std::string("trajectory field '") + key + "': " + e.what());
  }
}

template <class T>
void get(const json& j, const char* key, std::optional<T>& out) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return;
  T v{};
  get(j, key, v);
  out = std::move(v);
}

json usage_json(const Usage& u) {
  return {{"prompt_tokens", u.prompt_tokens}, {"completion_tokens", u.completion_tokens},
          {"api_calls", u.api_calls}, {"cost", u.cost}};
}

Usage usage_from(const json& j) {
  Usage u;
  if (!j.is_object()) return u;
  get(j, "prompt_tokens", u.prompt_tokens);
  get(j, "completion_tokens", u.completion_tokens);
  get(j, "api_calls", u.api_calls);
  get(j, "cost", u.cost);
  return u;
}

json turn_json(const Turn& t) {
  json j;
  j["index"] = t.index;
  j["action"] = {{"text", t.action.text}, {"tokens", t.action.tokens}, {"logprobs", t.action.logprobs},
                 {"finish_reason", t.action.finish_reason}, {"usage", usage_json(t.action.usage)}};
  if (!t.action.reasoning.empty()) j["action"]["reasoning"] = t.action.reasoning;
  if (t.action.end_token_added) j["action"]["end_token_added"] = true;
  j["call"] = t.call ? json{{"tool", t.call->tool}, {"body", t.call->body}} : json(nullptr);
  j["parse_error"] = t.parse_error ? json{{"kind", t.parse_error->kind}, {"message", t.parse_error->message}}
                                   : json(nullptr);
  if (t.result) {
    const ToolResult& r = *t.result;
    j["result"] = {{"ok", r.ok}, {"output", r.output},
                   {"exit_code", r.exit_code ? json(*r.exit_code) : json(nullptr)},
                   {"error_kind", r.error_kind.empty() ? json(nullptr) : json(r.error_kind)},
                   {"submitted", r.submitted}};
  } else {
    j["result"] = nullptr;
  }
  j["observation"] = {{"text", t.observation.text}, {"content", t.observation.content}, {"tokens", t.observation.tokens},
                      {"truncated", t.observation.truncated}};
  j["budget"] = {{"turns", t.budget.turns}, {"tokens", t.budget.tokens}};
  j["timing"] = {{"policy_ms", t.policy_ms}, {"tool_ms", t.tool_ms}, {"runner_ms", t.runner_ms}};
  j["context_tokens"] = t.context_tokens;
  j["reward"] = t.reward;
  return j;
}

Turn turn_from(const json& j) {
  Turn t;
  get(j, "index", t.index);
  if (auto a = j.find("action"); a != j.end() && a->is_object()) {
    get(*a, "text", t.action.text);
    get(*a, "tokens", t.action.tokens);
    get(*a, "logprobs", t.action.logprobs);
    get(*a, "finish_reason", t.action.finish_reason);
    get(*a, "reasoning", t.action.reasoning);
    get(*a, "end_token_added", t.action.end_token_added);
    if (a->contains("usage")) t.action.usage = usage_from((*a)["usage"]);
  }
  if (auto c = j.find("call"); c != j.end() && c->is_object()) {
    ToolCall call;
    get(*c, "tool", call.tool);
    get(*c, "body", call.body);
    t.call = call;
  }
  if (auto p = j.find("parse_error"); p != j.end() && p->is_object()) {
    ParseError e;
    get(*p, "kind", e.kind);
    get(*p, "message", e.message);
    t.parse_error = e;
  }
  if (auto r = j.find("result"); r != j.end() && r->is_object()) {
    ToolResult res;
    get(*r, "ok", res.ok);
    get(*r, "output", res.output);
    get(*r, "exit_code", res.exit_code);
    get(*r, "error_kind", res.error_kind);
    get(*r, "submitted", res.submitted);
    t.result = res;
  }
  if (auto o = j.find("observation"); o != j.end() && o->is_object()) {
    get(*o, "text", t.observation.text);
    get(*o, "content", t.observation.content);
    get(*o, "tokens", t.observation.tokens);
    get(*o, "truncated", t.observation.truncated);
  }
  if (auto b = j.find("budget"); b != j.end() && b->is_object()) {
    get(*b, "turns", t.budget.turns);
    get(*b, "tokens", t.budget.tokens);
  }
  if (auto tm = j.find("timing"); tm != j.end() && tm->is_object()) {
    get(*tm, "policy_ms", t.policy_ms);
    get(*tm, "tool_ms", t.tool_ms);
    get(*tm, "runner_ms", t.runner_ms);
  }
  get(j, "context_tokens", t.context_tokens);
  get(j, "reward", t.reward);
  return t;
}

json optional_number(const std::optional<double>& v) { return v ? json(*v) : json(nullptr); }

}  // namespace

const char* to_string(ExitStatus s) { return kStatusNames[static_cast<int>(s)]; }

ExitStatus exit_status_from_string(const std::string& s) {
  for (int i = 0; i < static_cast<int>(std::size(kStatusNames)); ++i)
    if (s == kStatusNames[i]) return static_cast<ExitStatus>(i);
  throw std::invalid_argument("unknown exit status '" + s +
                              "' (expected submitted, context_exceeded, max_turns, format_error, "
                              "sandbox_timeout, env_error or limit)");
}

std::string episode_key(const std::string& instance_id, int sample) {
  return instance_id + "#" + std::to_string(sample);
}

std::vector<Message> Episode::messages() const {
  std::vector<Message> m;
  if (!system_prompt.empty()) m.push_back({"system", system_prompt});
  m.push_back({"user", task_prompt});
  for (const Turn& t : turns) {
    m.push_back({"assistant", t.action.text_without_end_token()});
    // Observations go back as user turns (a "tool" role would need call ids a text protocol lacks).
    const std::string& obs = t.observation.content.empty() ? t.observation.text : t.observation.content;
    if (!obs.empty()) m.push_back({"user", obs});
  }
  return m;
}

std::string Action::text_without_end_token() const {
  constexpr std::string_view eot = "<|eot_id|>";
  std::string_view t = text;
  if (t.size() >= eot.size() && t.substr(t.size() - eot.size()) == eot) t.remove_suffix(eot.size());
  return std::string(t);
}

std::string Episode::context_text() const {
  std::string s = prompt_text;
  for (const Turn& t : turns) s += t.action.text + t.observation.text;
  return s;
}

bool Episode::resolved() const {
  return terminal.eval.is_object() && terminal.eval.value("resolved", false);
}

const char* to_string(Outcome o) {
  switch (o) {
    case Outcome::model: return "model";
    case Outcome::infra_error: return "infra_error";
    case Outcome::ambiguous: return "ambiguous";
  }
  return "model";
}

Outcome Episode::outcome() const {
  // A sandbox that died mid-episode, after the agent's own commands ran in it (a fork or memory
  // bomb, killed helpers), is the model's result: an agent must not turn a failing episode into a
  // rerun that pass@k leaves out. Set-up, endpoint and evaluation failures are the infrastructure's.
  if (terminal.status == ExitStatus::env_error)
    return extra.is_object() && extra.value("infra_stage", std::string()) == "sandbox" ? Outcome::model
                                                                                     : Outcome::infra_error;
  if (terminal.eval.is_object()) {
    if (terminal.eval.value("infra_failure", false)) return Outcome::infra_error;
    if (terminal.eval.value("ambiguous_failure", false)) return Outcome::ambiguous;
  }
  return Outcome::model;
}

json to_json(const Episode& e) {
  json j;
  j["schema"] = e.schema;
  j["episode_id"] = e.episode_id;
  j["instance_id"] = e.instance_id;
  j["task_kind"] = e.task_kind;
  j["sample"] = e.sample;
  j["policy"] = e.policy;
  j["model"] = e.model;
  j["profile"] = e.profile;
  j["templates"] = e.templates;
  j["config"] = e.config;
  j["sampling"] = e.sampling;
  j["prompt"] = {{"system", e.system_prompt}, {"user", e.task_prompt}, {"text", e.prompt_text}, {"tokens", e.prompt_tokens}};
  json turns = json::array();
  for (const Turn& t : e.turns) turns.push_back(turn_json(t));
  j["turns"] = std::move(turns);
  const Terminal& t = e.terminal;
  j["terminal"] = {
      {"exit_status", to_string(t.status)},
      {"outcome", to_string(e.outcome())},
      {"reason", t.reason},
      {"patch", t.patch},
      {"submission", t.submission},
      {"eval", t.eval},
      {"eval_ms", t.eval_ms},
      {"rewards",
       {{"total", t.rewards.total}, {"mode", t.rewards.mode}, {"test", optional_number(t.rewards.test)},
        {"similarity", optional_number(t.rewards.similarity)}, {"details", t.rewards.details}}},
      {"audit", t.audit}};
  j["usage"] = usage_json(e.usage);
  j["extra"] = e.extra;
  j["sandbox"] = e.sandbox;
  j["timing"] = {{"started_at", e.started_at}, {"wall_ms", e.wall_ms}};
  return j;
}

Episode episode_from_json(const json& j) {
  if (!j.is_object()) throw std::runtime_error("trajectory record is not a JSON object");
  Episode e;
  get(j, "schema", e.schema);
  if (e.schema != kSchema)
    throw std::runtime_error("trajectory schema '" + e.schema + "' is not " + kSchema +
                             " (written by another swebox version?)");
  get(j, "episode_id", e.episode_id);
  get(j, "instance_id", e.instance_id);
  if (e.instance_id.empty()) throw std::runtime_error("trajectory record has no instance_id");
  get(j, "task_kind", e.task_kind);
  get(j, "sample", e.sample);
  get(j, "policy", e.policy);
  get(j, "model", e.model);
  get(j, "profile", e.profile);  // records from before profiles: "swebox"
  if (auto t = j.find("templates"); t != j.end() && t->is_object()) e.templates = *t;
  if (j.contains("config")) e.config = j["config"];
  if (j.contains("sampling")) e.sampling = j["sampling"];
  if (auto p = j.find("prompt"); p != j.end() && p->is_object()) {
    get(*p, "system", e.system_prompt);
    get(*p, "user", e.task_prompt);
    get(*p, "text", e.prompt_text);
    get(*p, "tokens", e.prompt_tokens);
  }
  if (auto ts = j.find("turns"); ts != j.end() && ts->is_array())
    for (const json& t : *ts) e.turns.push_back(turn_from(t));
  if (auto t = j.find("terminal"); t != j.end() && t->is_object()) {
    std::string status = "env_error";
    get(*t, "exit_status", status);
    e.terminal.status = exit_status_from_string(status);
    get(*t, "reason", e.terminal.reason);
    get(*t, "patch", e.terminal.patch);
    get(*t, "submission", e.terminal.submission);
    if (t->contains("eval")) e.terminal.eval = (*t)["eval"];
    get(*t, "eval_ms", e.terminal.eval_ms);
    if (auto a = t->find("audit"); a != t->end() && a->is_object()) e.terminal.audit = *a;
    if (auto r = t->find("rewards"); r != t->end() && r->is_object()) {
      get(*r, "total", e.terminal.rewards.total);
      get(*r, "mode", e.terminal.rewards.mode);
      get(*r, "test", e.terminal.rewards.test);
      get(*r, "similarity", e.terminal.rewards.similarity);
      if (r->contains("details")) e.terminal.rewards.details = (*r)["details"];
    }
  }
  if (j.contains("usage")) e.usage = usage_from(j["usage"]);
  if (j.contains("sandbox")) e.sandbox = j["sandbox"];
  if (j.contains("extra")) e.extra = j["extra"];
  if (auto tm = j.find("timing"); tm != j.end() && tm->is_object()) {
    get(*tm, "started_at", e.started_at);
    get(*tm, "wall_ms", e.wall_ms);
  }
  return e;
}

}  // namespace swebox::traj
