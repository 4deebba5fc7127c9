// The episode loop. Read top to bottom:
//   prepare   (blocking pool) cached base tree -> sandbox over it -> toolset
//   begin     render the system and task prompts from templates
//   ask       the policy for the next action
//   on_action count it, check the limits in CWM's order (docs/formats.md §1.5), parse it
//   on_result the tool's result becomes the observation (with the budget block); ask again
//   end       (blocking pool) the judge (tasks/judge.h): stop the sandbox, final diff, teardown,
//             evaluation, rewards -> done
#include "runner/episode.h"

#include <chrono>
#include <ctime>

#include <boost/asio/post.hpp>

#include "tasks/judge.h"
#include "tools/observation.h"
#include "tools/prompts.h"
#include "tools/toolset.h"

namespace swebox::runner {

using traj::ExitStatus;
using Clock = std::chrono::steady_clock;

nlohmann::json EpisodeConfig::to_json() const {
  return {{"profile", to_string(profile)},
          {"max_turns", max_turns},
          {"context_size", context_size},
          {"max_prompt_len", max_prompt_len},
          {"max_user_turn_len", max_user_turn_len},
          {"max_action_len", max_action_len},
          {"format", strict ? "strict" : "lenient"},
          {"max_format_errors", max_format_errors},
          {"wall_limit_s", wall_limit_s},
          {"bash_timeout_s", bash_timeout_s},
          {"think", think == tools::ThinkMode::off ? "off" : think == tools::ThinkMode::tag ? "tag" : "token"},
          {"plugins", plugins},
          {"reward", to_string(reward)},
          {"similarity_threshold", similarity_threshold},
          {"task_kind", task_kind},
          {"workspace", workspace},
          {"evaluate", evaluate},
          {"grading", tasks::to_string(grading)},
          {"eval_timeout_s", eval_timeout_s},
          {"sandbox", {{"backend", backend == sandbox::Backend::native ? "native" : "docker"},
                       {"memory_bytes", limits.memory_bytes},
                       {"cpus", limits.cpus},
                       {"pids", limits.pids}}},
          {"token_counter", token_counter()}};
}

nlohmann::json EpisodeConfig::token_counter() const {
  if (!tokenizer) return "bytes/4";
  return {{"kind", tokenizer->kind()}, {"source", tokenizer->source()}, {"file_id", tokenizer_id},
          {"vocab_size", tokenizer->vocab_size()}};
}

tools::TokenCounter EpisodeConfig::count_tokens() const {
  if (!tokenizer) return tools::estimate_tokens;
  // The context holds the chat format's markers (<|eot_id|>, ...): each is the one token it is to the model.
  return [tokenizer = tokenizer](std::string_view text) {
    return tokenizer->encode(text, {.parse_special = true}).size();
  };
}

namespace {

double ms_since(Clock::time_point t) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t).count();
}

std::string utc_now() {
  std::time_t t = std::time(nullptr);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
  return buf;
}

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

class EpisodeRun : public std::enable_shared_from_this<EpisodeRun> {
 public:
  EpisodeRun(const EpisodeServices& s, const EpisodeConfig& c, const tasks::Instance& inst, int sample,
             std::function<void(traj::Episode)> done)
      : s_(s), c_(c), inst_(inst), done_(std::move(done)) {
    rec_.episode_id = s.run_id + "/" + inst.instance_id + "/" + std::to_string(sample);
    rec_.instance_id = inst.instance_id;
    rec_.task_kind = c.task_kind;
    rec_.sample = sample;
    rec_.policy = s.policy_spec;
    rec_.model = s.policy.model_name();
    rec_.config = c.to_json();
    rec_.sampling = s.policy.sampling();
    rec_.profile = to_string(c.profile);
    rec_.templates = s.templates_id;
    rec_.started_at = utc_now();
    obs_cfg_.context_size = c.context_size;
    obs_cfg_.max_turns = c.max_turns;
    obs_cfg_.max_prompt_len = c.max_prompt_len;
    obs_cfg_.max_user_turn_len = c.max_user_turn_len;
    obs_cfg_.think = c.think;
    obs_cfg_.count_tokens = c.count_tokens();
  }

  void start() {
    started_ = Clock::now();
    auto self = shared_from_this();
    boost::asio::post(s_.blocking, [self] { self->prepare(); });
  }

 private:
  // ---- set-up (blocking pool)
  void prepare() {
    auto t0 = Clock::now();
    try {
      sandbox::Config sc;
      base_tree_ = s_.cache.base_tree(inst_);
      sc.workspace_lowers = {base_tree_};
      sc.workspace_mount = c_.workspace;
      sc.network = sandbox::Network::none;
      sc.limits = c_.limits;
      tasks::Environment env = s_.environments.resolve(inst_.repo, inst_.version);
      if (!env.path.empty()) sc.env.push_back({"PATH", env.path});
      sc.system_paths = tasks::system_paths(env);
      for (const auto& kv : env.env) sc.env.push_back(kv);
      sandbox_ = sandbox::make_sandbox(s_.io, sc, c_.backend);
      toolset_ = std::make_unique<tools::Toolset>(*sandbox_, toolset_config(c_), s_.templates);
    } catch (const std::exception& e) {
      setup_error_ = std::string("could not prepare the sandbox for ") + inst_.instance_id + ": " + e.what();
    }
    stats_["setup_ms"] = ms_since(t0);
    auto self = shared_from_this();
    boost::asio::post(s_.io, [self] { self->begin(); });
  }

  void begin() {
    if (!setup_error_.empty()) return infra_end("setup", setup_error_);
    try {
      tools::PromptConfig pc{c_.context_size, c_.max_turns, c_.bash_timeout_s, c_.think};
      rec_.system_prompt = tools::system_prompt(toolset_->names(), pc, s_.templates);
      std::string task = tools::task_prompt(inst_.problem_statement, inst_.repo, c_.workspace, s_.templates);
      tools::Observation prompt = tools::initial_prompt(rec_.system_prompt, task, obs_cfg_);
      rec_.task_prompt = prompt.message.content;
      rec_.prompt_text = prompt.text;
      tokens_ = obs_cfg_.count_tokens(prompt.text);
      session_ = s_.policy.start({inst_, rec_.sample, c_.workspace, c_.think, c_.max_action_len});
    } catch (const std::exception& e) {
      return infra_end("setup", std::string("could not start the episode: ") + e.what());
    }
    ask();
  }

  // ---- the loop
  void ask() {
    if (ms_since(started_) > c_.wall_limit_s * 1000)
      return end(ExitStatus::sandbox_timeout,
                 "the episode ran past its " + std::to_string(static_cast<long>(c_.wall_limit_s)) + " s lifetime");
    if (s_.on_turn) s_.on_turn(rec_);
    policy_t0_ = Clock::now();
    auto self = shared_from_this();
    session_->async_next(rec_, [self](std::optional<PolicyError> err, traj::Action a) {
      self->on_action(std::move(err), std::move(a));
    });
  }

  void on_action(std::optional<PolicyError> err, traj::Action action) {
    double policy_ms = ms_since(policy_t0_);
    auto runner_t0 = Clock::now();
    if (err) {
      switch (err->kind) {
        case PolicyError::Kind::context_exceeded: return end(ExitStatus::context_exceeded, "policy: " + err->message);
        case PolicyError::Kind::exhausted: return end(ExitStatus::limit, "policy: " + err->message);
        default: return infra_end("endpoint", "policy: " + err->message);
      }
    }
    traj::Turn t;
    t.index = ++step_;
    t.policy_ms = policy_ms;
    size_t action_tokens = !action.tokens.empty()             ? action.tokens.size()
                           : action.usage.completion_tokens > 0 ? size_t(action.usage.completion_tokens)
                                                               : obs_cfg_.count_tokens(action.text);
    tokens_ += action_tokens;
    t.context_tokens = static_cast<int64_t>(tokens_);
    rec_.usage += action.usage;
    t.action = std::move(action);
    rec_.turns.push_back(std::move(t));
    traj::Turn& turn = rec_.turns.back();
    const std::string& text = turn.action.text;

    // docs/formats.md §1.5, in order.
    if (tokens_ > c_.context_size)
      return end(ExitStatus::context_exceeded, "context of " + std::to_string(tokens_) + " tokens exceeds " +
                                                   std::to_string(c_.context_size));
    if (step_ >= c_.max_turns) return end(ExitStatus::max_turns, "reached max_turns " + std::to_string(c_.max_turns));
    // CWM cuts an action at max_action_len as it is generated and goes on (the cwm profile asks the
    // server for at most that many tokens); the swebox profile ends the episode instead.
    if (c_.profile != Profile::cwm && action_tokens > c_.max_action_len)
      return end(ExitStatus::limit, "action of " + std::to_string(action_tokens) + " tokens exceeds max_action_len");
    // CWM parses the reply up to its first stop token; text a server let through after it is ignored.
    std::string_view reply = tools::cut_at_stop_markers(text);
    tools::ParseResult parsed = tools::parse_action(reply, toolset_->parse_options(c_.think), s_.templates);
    if (auto* perr = std::get_if<tools::ParseError>(&parsed)) {
      turn.parse_error = traj::ParseError{perr->error_class, perr->message};
      if (submitted_ && tools::is_final_summary(reply, parsed, c_.think, c_.strict))
        return end(ExitStatus::submitted, "submitted, then answered without a tool call");
      if (c_.strict && submitted_)
        return end(ExitStatus::format_error, std::string("strict format: the final answer lacks the '##' summary") +
                                                 (c_.think == tools::ThinkMode::off ? "" : " after the thinking part") +
                                                 " (" + perr->text() + ")");
      if (c_.strict) return end(ExitStatus::format_error, "strict format: " + perr->text());
      if (++format_errors_ >= c_.max_format_errors && c_.max_format_errors > 0)
        return end(ExitStatus::format_error, std::to_string(format_errors_) + " format errors in a row; last: " + perr->text());
      tools::Observation obs = tools::error_observation(*perr, ends_with(text, tools::kEndOfTurn), obs_cfg_);
      record_observation(turn, obs);
      turn.runner_ms = ms_since(runner_t0);
      return ask();
    }
    format_errors_ = 0;
    const tools::ToolCall& call = std::get<tools::ToolCall>(parsed);
    turn.call = traj::ToolCall{call.name, call.body};
    tool_t0_ = Clock::now();
    turn.runner_ms = ms_since(runner_t0);
    auto self = shared_from_this();
    try {
      toolset_->async_execute(call, [self](tools::ToolResult r) { self->on_result(std::move(r)); });
    } catch (const std::exception& e) {
      infra_end("sandbox", "tool " + call.name + " failed to run: " + e.what());
    }
  }

  void on_result(tools::ToolResult r) {
    auto runner_t0 = Clock::now();
    traj::Turn& turn = rec_.turns.back();
    turn.tool_ms = ms_since(tool_t0_);
    tool_ms_total_ += turn.tool_ms;
    ++tool_calls_;
    turn.result = traj::ToolResult{r.ok, r.raw_output.empty() ? r.feedback : r.raw_output, r.exit_code, r.error_kind,
                                   r.patch.has_value()};
    if (r.error_kind == "timeout") ++bash_timeouts_;
    // A failure may mean the sandbox itself is gone (killed, out of memory): then no later action
    // can succeed and the episode ends, recorded as stage "sandbox" — the model's outcome, since the
    // agent's own commands ran in it (trajectories/record.cc). Probed on failures only, so a working
    // turn pays nothing.
    if (!r.ok && !sandbox_alive())
      return infra_end("sandbox", "the sandbox died during turn " + std::to_string(turn.index) + " (" +
                                      turn.call->tool + "): " + r.feedback.substr(0, 300));
    if (r.patch) {
      submitted_ = true;
      rec_.terminal.submission = *r.patch;
    }
    tools::Observation obs = tools::tool_observation(turn.call->tool, r.feedback, step_, tokens_,
                                                     ends_with(turn.action.text, tools::kEndOfTurn), obs_cfg_,
                                                     s_.templates);
    record_observation(turn, obs);
    turn.runner_ms += ms_since(runner_t0);
    ask();
  }

  bool sandbox_alive() {
    try {
      return sandbox_->exists(c_.workspace);
    } catch (const std::exception&) {
      return false;
    }
  }

  void record_observation(traj::Turn& turn, const tools::Observation& obs) {
    turn.observation.text = obs.text;
    turn.observation.content = obs.message.content;
    turn.observation.truncated = obs.truncated;
    turn.budget = {obs.remaining_turns, obs.remaining_tokens};
    // What the context grew by: the whole observation as sent (end token, message, assistant
    // prefix), counted for real, an error observation too (docs/formats.md §1.3).
    tokens_ += obs_cfg_.count_tokens(obs.text);
    check_replay(turn);
  }

  // replay: the same actions should meet the same observations.
  void check_replay(const traj::Turn& turn) {
    const traj::Episode* recorded = session_ ? session_->recorded() : nullptr;
    if (!recorded) return;
    size_t i = static_cast<size_t>(turn.index - 1);
    const std::string expected = i < recorded->turns.size() ? recorded->turns[i].observation.text : "";
    auto& replay = rec_.extra["replay"];
    if (!replay.contains("mismatches")) replay = {{"source", recorded->episode_id}, {"mismatches", nlohmann::json::array()}};
    if (expected != turn.observation.text)
      replay["mismatches"].push_back({{"turn", turn.index}, {"expected", expected}, {"got", turn.observation.text}});
  }

  // ---- the end
  // The infrastructure failed, not the policy (traj::Outcome::infra_error); `stage` says where:
  // setup (repository, commit, sandbox), endpoint (the policy's server), sandbox (died mid-episode).
  void infra_end(const char* stage, std::string reason) {
    rec_.extra["infra_stage"] = stage;
    end(ExitStatus::env_error, std::move(reason));
  }

  void end(ExitStatus status, std::string reason) {
    rec_.terminal.status = status;
    rec_.terminal.reason = std::move(reason);
    auto self = shared_from_this();
    boost::asio::post(s_.blocking, [self] { self->conclude(); });
  }

  void conclude() {
    toolset_.reset();  // it holds the sandbox, which the judge takes
    tasks::JudgeConfig jc;
    jc.evaluate = c_.evaluate;
    jc.eval.repos_dir = s_.repos_dir;
    jc.eval.cache_dir = s_.cache.options().cache_dir;
    jc.eval.timeout_s = c_.eval_timeout_s;
    jc.eval.environments = &s_.environments;
    jc.eval.backend = c_.backend;
    jc.eval.grading = c_.grading;
    jc.reward = c_.reward;
    jc.similarity_threshold = c_.similarity_threshold;
    jc.report_dir = s_.report_dir;
    jc.report_run = s_.run_id + (rec_.sample ? "-s" + std::to_string(rec_.sample) : "");
    tasks::EpisodeOutcome outcome{rec_.terminal.status, std::nullopt, rec_.model, rec_.sample};
    if (submitted_) outcome.submission = rec_.terminal.submission;
    tasks::Verdict v = tasks::judge_episode(inst_, std::move(sandbox_), base_tree_, c_.workspace, outcome, jc);
    traj::Terminal& term = rec_.terminal;
    term.patch = std::move(v.workspace_diff);
    term.eval = std::move(v.eval);
    term.eval_ms = v.eval_ms;
    term.rewards = std::move(v.rewards);
    term.audit = std::move(v.audit);
    term.reason += v.notes;
    if (term.eval.is_object() && term.eval.value("infra_failure", false)) rec_.extra["infra_stage"] = "evaluation";
    if (!rec_.turns.empty()) rec_.turns.back().reward = term.rewards.total;
    for (auto& [k, val] : v.stats.items()) stats_[k] = val;
    rec_.wall_ms = ms_since(started_);
    stats_["tool_calls"] = tool_calls_;
    stats_["tool_ms"] = tool_ms_total_;
    stats_["bash_timeouts"] = bash_timeouts_;
    rec_.sandbox = stats_;
    if (rec_.extra.contains("replay")) rec_.extra["replay"]["matched"] = rec_.extra["replay"]["mismatches"].empty();
    auto self = shared_from_this();
    boost::asio::post(s_.io, [self] { self->done_(std::move(self->rec_)); });
  }

  const EpisodeServices& s_;
  EpisodeConfig c_;
  const tasks::Instance& inst_;
  std::function<void(traj::Episode)> done_;
  traj::Episode rec_;
  tools::ObservationConfig obs_cfg_;
  std::unique_ptr<sandbox::Sandbox> sandbox_;
  std::unique_ptr<tools::Toolset> toolset_;
  std::unique_ptr<PolicySession> session_;
  std::string setup_error_, base_tree_;
  Clock::time_point started_, policy_t0_, tool_t0_;
  long step_ = 0;
  size_t tokens_ = 0;
  int format_errors_ = 0;
  bool submitted_ = false;
  long tool_calls_ = 0, bash_timeouts_ = 0;
  double tool_ms_total_ = 0;
  nlohmann::json stats_ = nlohmann::json::object();
};

}  // namespace

void run_episode(const EpisodeServices& services, const EpisodeConfig& config, const tasks::Instance& instance,
                 int sample, std::function<void(traj::Episode)> done) {
  std::make_shared<EpisodeRun>(services, config, instance, sample, std::move(done))->start();
}

traj::Episode run_episode_blocking(tasks::WorkspaceCache& cache, const tasks::EnvironmentTable& environments,
                                   const std::string& repos_dir, Policy& policy, boost::asio::io_context& io,
                                   const EpisodeConfig& config, const tasks::Instance& instance, int sample,
                                   const tools::Templates& templates) {
  boost::asio::thread_pool pool(2);
  EpisodeServices services{io, pool, cache, environments, repos_dir, templates, policy, "", "blocking", ""};
  traj::Episode result;
  bool finished = false;
  run_episode(services, config, instance, sample, [&](traj::Episode e) {
    result = std::move(e);
    finished = true;
  });
  // The io_context must not run out of work while the pool is busy: keep it alive until done.
  auto guard = boost::asio::make_work_guard(io);
  while (!finished) io.run_one();
  guard.reset();
  pool.join();
  io.restart();
  return result;
}

}  // namespace swebox::runner
