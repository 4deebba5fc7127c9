// openai:URL[#model] — an OpenAI-compatible server (vLLM, SGLang, llama.cpp, OpenAI itself over a
// local proxy). URL is the API base (http://host:port/v1); `?api=completions` switches from
// /chat/completions to /completions, sent the recorded token-stream context byte for byte.
// Under the cwm profile the chat request is the recorded context in the layout CWM's own server
// (fgserve) renders back into exactly that stream (docs/profiles.md).
// Each call: resolve, connect, POST, read, all async with one deadline; 429, 5xx, connection
// errors and timeouts are retried with exponential backoff; other 4xx fail at once (a 400 that
// says the context is too long becomes context_exceeded).
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <random>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "runner/policy.h"
#include "tools/observation.h"

namespace swebox::runner {

namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;
using nlohmann::json;

struct Endpoint {
  std::string host, port, base_path, model;
  bool completions_api = false;
};

Endpoint parse_endpoint(const std::string& spec) {
  Endpoint ep;
  std::string url = spec;
  if (auto hash = url.find('#'); hash != std::string::npos) {
    ep.model = url.substr(hash + 1);
    url.resize(hash);
  }
  if (auto q = url.find('?'); q != std::string::npos) {
    std::string query = url.substr(q + 1);
    url.resize(q);
    if (query == "api=completions") ep.completions_api = true;
    else if (query != "api=chat")
      throw PolicySpecError("policy 'openai:" + spec + "': unknown query '" + query +
                            "' (use ?api=chat or ?api=completions)");
  }
  const std::string scheme = "http://";
  if (url.rfind("https://", 0) == 0)
    throw PolicySpecError("policy 'openai:" + spec +
                          "': https is not supported; run a local http proxy or serve the model on http");
  if (url.rfind(scheme, 0) != 0)
    throw PolicySpecError("policy 'openai:" + spec + "': expected openai:http://HOST:PORT/v1[#model]");
  std::string rest = url.substr(scheme.size());
  auto slash = rest.find('/');
  std::string hostport = rest.substr(0, slash);
  ep.base_path = slash == std::string::npos ? "" : rest.substr(slash);
  while (!ep.base_path.empty() && ep.base_path.back() == '/') ep.base_path.pop_back();
  auto colon = hostport.rfind(':');
  ep.host = hostport.substr(0, colon);
  ep.port = colon == std::string::npos ? "80" : hostport.substr(colon + 1);
  if (ep.host.empty()) throw PolicySpecError("policy 'openai:" + spec + "': no host in the URL");
  return ep;
}

// What follows the assistant header in think mode: "<think>\n" (tag) or the thinking-start token.
std::string think_prefix(tools::ThinkMode think) {
  return tools::assistant_prefix(think).substr(tools::message_header("assistant").size());
}

// The action as the body of a past assistant message: the think prefix it followed, and without
// the end token, which the server puts after every past message.
std::string assistant_body(const traj::Action& a, tools::ThinkMode think) {
  return think_prefix(think) + a.text_without_end_token();
}

// fgserve names a tool result's header "tool: NAME" from its tool_call_id, NAME being all but the
// last 33 characters ("-" and 32 hex digits): a fixed id per turn keeps requests reproducible.
std::string tool_call_id(const std::string& tool, int turn) {
  char hex[33];
  std::snprintf(hex, sizeof hex, "%032x", static_cast<unsigned>(turn));
  return tool + "-" + hex;
}

// The recorded context as chat messages, laid out as CWM's server expects (profile cwm): system and
// task as recorded (bodies stripped, as the server strips them), each action an assistant message
// with its think prefix, each tool result a tool message (rendered "tool: NAME"), each format
// error the user message it was. In think-token mode the prefix of the reply to come is sent as a
// final assistant message (a generation prefix); in tag mode the server adds it (reasoning on).
json cwm_chat_messages(const traj::Episode& e, tools::ThinkMode think) {
  json messages = json::array();
  if (!e.system_prompt.empty())
    messages.push_back({{"role", "system"}, {"content", std::string(tools::python_strip(e.system_prompt))}});
  messages.push_back({{"role", "user"}, {"content", e.task_prompt}});
  for (const traj::Turn& t : e.turns) {
    messages.push_back({{"role", "assistant"}, {"content", assistant_body(t.action, think)}});
    if (t.observation.text.empty()) continue;
    if (t.call && t.result)
      messages.push_back({{"role", "tool"}, {"tool_call_id", tool_call_id(t.call->tool, t.index)},
                          {"content", t.observation.content}});
    else
      messages.push_back({{"role", "user"}, {"content", t.observation.content}});
  }
  if (think == tools::ThinkMode::token) messages.push_back({{"role", "assistant"}, {"content", think_prefix(think)}});
  return messages;
}

// vLLM returns token ids as "token_id:123" when asked (return_tokens_as_token_ids).
std::optional<int32_t> token_id(const std::string& token) {
  if (token.rfind("token_id:", 0) != 0) return std::nullopt;
  return static_cast<int32_t>(std::strtol(token.c_str() + 9, nullptr, 10));
}

// A server's token count: a whole number in range, else 0. value<int64_t>() of 1e300 or -1e300 would
// be an out-of-range float-to-integer conversion (undefined behaviour) on a hostile reply.
int64_t token_count(const json& usage, const char* key) {
  auto it = usage.find(key);
  if (it == usage.end() || !it->is_number()) return 0;
  if (it->is_number_unsigned()) return static_cast<int64_t>(std::min<uint64_t>(it->get<uint64_t>(), INT64_MAX));
  if (it->is_number_integer()) return std::max<int64_t>(it->get<int64_t>(), 0);
  double d = it->get<double>();
  return d >= 0 && d < 9.2e18 ? static_cast<int64_t>(d) : 0;
}

// How the reply is read back into the recorded action.
struct ReplyRules {
  bool completions_api = false;
  tools::ThinkMode think = tools::ThinkMode::off;
  bool cwm = false;          // profile cwm: the end token belongs to the action
  int64_t max_tokens = 0;    // sent (0: none), to tell a cut reply from one that stopped
};

std::string string_field(const json& obj, const char* key) {
  auto it = obj.find(key);
  return it != obj.end() && it->is_string() ? it->get<std::string>() : "";
}

traj::Action parse_reply(const json& body, const ReplyRules& rules) {
  traj::Action a;
  const json& choice = body.at("choices").at(0);
  if (rules.completions_api) {
    a.text = choice.value("text", "");
    if (auto lp = choice.find("logprobs"); lp != choice.end() && lp->is_object()) {
      for (const json& v : lp->value("token_logprobs", json::array())) a.logprobs.push_back(v.is_number() ? v.get<double>() : 0.0);
      for (const json& t : lp->value("tokens", json::array()))
        if (auto id = token_id(t.get<std::string>())) a.tokens.push_back(*id);
    }
  } else {
    const json& msg = choice.at("message");
    a.text = string_field(msg, "content");
    // A reasoning server splits the generation at "\n</think>\n" (CWM's fgserve, vLLM's parsers);
    // in think mode the action is the whole generation, so the split is undone.
    a.reasoning = string_field(msg, "reasoning_content");
    if (a.reasoning.empty()) a.reasoning = string_field(msg, "reasoning");
    if (!a.reasoning.empty() && rules.think == tools::ThinkMode::tag) a.text = a.reasoning + "\n</think>\n" + a.text;
    if (auto lp = choice.find("logprobs"); lp != choice.end() && lp->is_object()) {
      for (const json& c : lp->value("content", json::array())) {
        a.logprobs.push_back(c.value("logprob", 0.0));
        if (auto id = token_id(c.value("token", ""))) a.tokens.push_back(*id);
      }
    }
  }
  if (a.tokens.size() != a.logprobs.size()) a.tokens.clear();  // partial ids are worse than none
  if (rules.cwm && a.tokens.empty()) {
    // fgserve's /completions returns the generated ids themselves (no log-probs).
    if (auto t = choice.find("tokens"); t != choice.end() && t->is_array() && !t->empty() &&
        std::all_of(t->begin(), t->end(), [](const json& v) { return v.is_number_integer(); }))
      for (const json& v : *t) a.tokens.push_back(v.get<int32_t>());
  }
  // Absent in fgserve's chat replies: choice["finish_reason"] on a const object without it would be
  // undefined behaviour, so the field is looked up.
  a.finish_reason = string_field(choice, "finish_reason");
  if (auto u = body.find("usage"); u != body.end() && u->is_object()) {
    a.usage.prompt_tokens = token_count(*u, "prompt_tokens");
    a.usage.completion_tokens = token_count(*u, "completion_tokens");
  }
  a.usage.api_calls = 1;
  // Profile cwm: a reply that stopped (on the end token, which servers leave out of the text) ends
  // with <|eot_id|>, as the action CWM generates does; one cut at max_tokens does not, and the
  // observation then starts with it. fgserve reports no finish_reason (chat) or always "length"
  // (completions): the completion count against max_tokens decides where it is known.
  if (rules.cwm && tools::cut_at_stop_markers(a.text).size() == a.text.size()) {
    bool cut = rules.max_tokens > 0 && a.usage.completion_tokens > 0 ? a.usage.completion_tokens >= rules.max_tokens
                                                                     : a.finish_reason == "length";
    if (!cut) {
      a.text += tools::kEndOfTurn;
      a.end_token_added = true;
    }
  }
  return a;
}

bool says_context_too_long(const std::string& body) {
  for (const char* needle : {"context length", "context_length", "maximum context", "too many tokens", "prompt is too long"})
    if (body.find(needle) != std::string::npos) return true;
  return false;
}

// One completion request, retried as needed; owns itself until it calls `done`.
class Call : public std::enable_shared_from_this<Call> {
 public:
  Call(net::io_context& io, const Endpoint& ep, const PolicyOptions& opt, ReplyRules rules, std::string target,
       std::string body, ActionHandler done)
      : io_(io), ep_(ep), opt_(opt), rules_(rules), resolver_(io), stream_(io), timer_(io), done_(std::move(done)) {
    req_ = {http::verb::post, target, 11};
    req_.set(http::field::host, ep.host);
    req_.set(http::field::content_type, "application/json");
    req_.set(http::field::user_agent, "swebox");
    if (const char* key = std::getenv("OPENAI_API_KEY"); key && *key)
      req_.set(http::field::authorization, std::string("Bearer ") + key);
    req_.body() = std::move(body);
    req_.prepare_payload();
  }

  void start() {
    auto self = shared_from_this();
    res_ = {};
    buffer_.clear();
    stream_.expires_after(std::chrono::milliseconds(static_cast<int64_t>(opt_.request_timeout_s * 1000)));
    resolver_.async_resolve(ep_.host, ep_.port, [self](beast::error_code ec, tcp::resolver::results_type r) {
      if (ec) return self->retry("cannot resolve " + self->ep_.host + ": " + ec.message());
      self->stream_.async_connect(r, [self](beast::error_code ec, const tcp::endpoint&) {
        if (ec) return self->retry("cannot connect to " + self->ep_.host + ":" + self->ep_.port + ": " + ec.message());
        http::async_write(self->stream_, self->req_, [self](beast::error_code ec, size_t) {
          if (ec) return self->retry("request failed: " + ec.message());
          http::async_read(self->stream_, self->buffer_, self->res_, [self](beast::error_code ec, size_t) {
            self->on_read(ec);
          });
        });
      });
    });
  }

 private:
  void on_read(beast::error_code ec) {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
    stream_.close();
    if (ec == beast::error::timeout)
      return retry("no reply within " + std::to_string(static_cast<int>(opt_.request_timeout_s)) + " s");
    if (ec) return retry("reading the reply failed: " + ec.message());
    unsigned status = res_.result_int();
    if (status == 429 || status >= 500) return retry("server said " + std::to_string(status) + ": " + res_.body().substr(0, 300));
    if (status != 200) {
      PolicyError e{says_context_too_long(res_.body()) ? PolicyError::Kind::context_exceeded : PolicyError::Kind::other,
                    "server said " + std::to_string(status) + ": " + res_.body().substr(0, 500)};
      return finish(std::move(e), {});
    }
    try {
      traj::Action a = parse_reply(json::parse(res_.body()), rules_);
      finish(std::nullopt, std::move(a));
    } catch (const std::exception& ex) {
      finish(PolicyError{PolicyError::Kind::other, std::string("unreadable reply: ") + ex.what() + ": " + res_.body().substr(0, 300)}, {});
    }
  }

  void retry(std::string why) {
    if (attempt_ >= opt_.max_retries)
      return finish(PolicyError{PolicyError::Kind::unavailable,
                                "gave up after " + std::to_string(attempt_ + 1) + " attempts; last: " + why},
                    {});
    double delay = std::min(opt_.backoff_max_s, opt_.backoff_initial_s * double(1u << std::min(attempt_, 20)));
    static thread_local std::mt19937 rng{std::random_device{}()};
    delay *= std::uniform_real_distribution<double>(0.75, 1.25)(rng);  // jitter spreads many episodes out
    ++attempt_;
    if (opt_.on_retry) {
      char next[32];
      std::snprintf(next, sizeof next, "%.1f", delay);
      opt_.on_retry(why + "; retrying in " + next + " s (attempt " + std::to_string(attempt_ + 1) + " of " +
                    std::to_string(opt_.max_retries + 1) + ")");
    }
    last_error_ = std::move(why);
    auto self = shared_from_this();
    timer_.expires_after(std::chrono::milliseconds(static_cast<int64_t>(delay * 1000)));
    timer_.async_wait([self](beast::error_code) { self->start(); });
  }

  void finish(std::optional<PolicyError> err, traj::Action a) {
    if (!err) a.usage.api_calls = 1;
    auto done = std::move(done_);
    done(std::move(err), std::move(a));
  }

  net::io_context& io_;
  Endpoint ep_;
  PolicyOptions opt_;
  ReplyRules rules_;
  tcp::resolver resolver_;
  beast::tcp_stream stream_;
  net::steady_timer timer_;
  beast::flat_buffer buffer_;
  http::request<http::string_body> req_;
  http::response<http::string_body> res_;
  ActionHandler done_;
  int attempt_ = 0;
  std::string last_error_;
};

class OpenAISession : public PolicySession {
 public:
  OpenAISession(net::io_context& io, const Endpoint& ep, const PolicyOptions& opt, const EpisodeStart& start)
      : io_(io), ep_(ep), opt_(opt), think_(start.think), max_action_len_(start.max_action_len) {}

  void async_next(const traj::Episode& so_far, ActionHandler done) override {
    const bool cwm = opt_.profile == Profile::cwm;
    json body = opt_.sampling.is_object() ? opt_.sampling : json::object();
    if (!ep_.model.empty()) body["model"] = ep_.model;
    ReplyRules rules{ep_.completions_api, think_, cwm, 0};
    if (cwm) {
      // CWM cuts an action at max_action_len tokens as it is generated (the episode goes on).
      if (max_action_len_ > 0) {
        int64_t cap = static_cast<int64_t>(std::min<size_t>(max_action_len_, INT64_MAX));
        if (!body.contains("max_tokens") || !body["max_tokens"].is_number_integer() || body["max_tokens"].get<int64_t>() > cap)
          body["max_tokens"] = cap;
      }
      // Special tokens stay in the text (the think-token markers, the end token), as generated.
      body["skip_special_tokens"] = false;
      body["include_stop_str_in_output"] = true;
    }
    if (body.contains("max_tokens") && body["max_tokens"].is_number_integer()) rules.max_tokens = body["max_tokens"].get<int64_t>();
    std::string target;
    if (ep_.completions_api) {
      // The recorded token stream, byte for byte; it begins with <|begin_of_text|>, so the server adds none.
      body["prompt"] = so_far.context_text();
      if (cwm) body["add_special_tokens"] = false;
      if (!body.contains("logprobs")) body["logprobs"] = 1;
      target = ep_.base_path + "/completions";
    } else if (cwm) {
      body["messages"] = cwm_chat_messages(so_far, think_);
      if (think_ == tools::ThinkMode::tag) body["reasoning"] = {{"enabled", true}};  // the server adds "<think>\n"
      if (think_ == tools::ThinkMode::token) {
        body["continue_final_message"] = true;  // vLLM: the last assistant message is a generation prefix
        body["add_generation_prompt"] = false;
      }
      if (!body.contains("logprobs")) body["logprobs"] = true;
      target = ep_.base_path + "/chat/completions";
    } else {
      json messages = json::array();
      for (const traj::Message& m : so_far.messages()) messages.push_back({{"role", m.role}, {"content", m.content}});
      body["messages"] = std::move(messages);
      if (!body.contains("logprobs")) body["logprobs"] = true;
      target = ep_.base_path + "/chat/completions";
    }
    std::make_shared<Call>(io_, ep_, opt_, rules, target, body.dump(-1, ' ', false, json::error_handler_t::replace),
                           std::move(done))
        ->start();
  }

 private:
  net::io_context& io_;
  Endpoint ep_;
  PolicyOptions opt_;
  tools::ThinkMode think_;
  size_t max_action_len_;
};

class OpenAIPolicy : public Policy {
 public:
  OpenAIPolicy(net::io_context& io, Endpoint ep, PolicyOptions opt) : io_(io), ep_(std::move(ep)), opt_(std::move(opt)) {}
  std::unique_ptr<PolicySession> start(const EpisodeStart& start) override {
    return std::make_unique<OpenAISession>(io_, ep_, opt_, start);
  }
  std::string model_name() const override { return ep_.model.empty() ? "openai:" + ep_.host : ep_.model; }
  json sampling() const override { return opt_.sampling; }

  // GET {base}/models, once, with one deadline (10 s, or --request-timeout when shorter) over
  // resolve, connect, write and read. Asynchronous on a private io_context: a tcp_stream's
  // deadline binds only asynchronous operations, and a server that accepts and never answers
  // (a wedged or paused server) held the synchronous calls for as long as the socket lived.
  std::string preflight() override {
    const std::string where = "http://" + ep_.host + ":" + ep_.port + ep_.base_path + "/models";
    const double limit_s = std::min(10.0, opt_.request_timeout_s);
    net::io_context io;
    tcp::resolver resolver(io);
    beast::tcp_stream stream(io);
    http::request<http::empty_body> req{http::verb::get, ep_.base_path + "/models", 11};
    req.set(http::field::host, ep_.host);
    req.set(http::field::user_agent, "swebox");
    if (const char* key = std::getenv("OPENAI_API_KEY"); key && *key)
      req.set(http::field::authorization, std::string("Bearer ") + key);
    beast::flat_buffer buffer;
    http::response<http::string_body> res;
    beast::error_code failure;
    bool answered = false;
    resolver.async_resolve(ep_.host, ep_.port, [&](beast::error_code ec, tcp::resolver::results_type hosts) {
      if (ec) return void(failure = ec);
      stream.async_connect(hosts, [&](beast::error_code ec, const tcp::endpoint&) {
        if (ec) return void(failure = ec);
        http::async_write(stream, req, [&](beast::error_code ec, size_t) {
          if (ec) return void(failure = ec);
          http::async_read(stream, buffer, res, [&](beast::error_code ec, size_t) {
            failure = ec;
            answered = !ec;
          });
        });
      });
    });
    const auto deadline = std::chrono::milliseconds(static_cast<int64_t>(limit_s * 1000));
    stream.expires_after(deadline);
    io.run_for(deadline);
    if (!answered && !failure) {  // still resolving, or the deadline fell between two steps
      resolver.cancel();
      stream.cancel();
      io.restart();
      io.run();  // the handlers see operation_aborted; nothing outlives this frame
      failure = beast::error::timeout;
    }
    if (!answered) {
      char limit[32];
      std::snprintf(limit, sizeof limit, "%g", limit_s);
      std::string why =
          failure == beast::error::timeout ? std::string("no reply within ") + limit + " s" : failure.message();
      return "the endpoint " + where + " does not answer (" + why + "); is the server up?";
    }
    unsigned status = res.result_int();
    if (status == 401 || status == 403)
      return "the endpoint " + where + " refused the request (" + std::to_string(status) +
             "): set OPENAI_API_KEY to a key it accepts";
    if (status == 404) return "";  // a server without the listing: the first request will tell
    if (status != 200) return "the endpoint " + where + " said " + std::to_string(status) + ": " + res.body().substr(0, 300);
    if (ep_.model.empty()) return "";
    std::vector<std::string> served;
    try {
      const json listing = json::parse(res.body());  // named: a range-for over a temporary's member dangles
      for (const json& m : listing.at("data"))
        if (m.is_object() && m.contains("id") && m["id"].is_string()) served.push_back(m["id"]);
    } catch (const std::exception&) {
      return "";  // not OpenAI's listing format: the first request will tell
    }
    if (served.empty() || std::find(served.begin(), served.end(), ep_.model) != served.end()) return "";
    std::string list;
    for (const std::string& m : served) list += (list.empty() ? "" : ", ") + m;
    return "the endpoint " + where + " does not serve the model '" + ep_.model + "' (it serves: " + list +
           "); fix the #model part of --policy";
  }

 private:
  net::io_context& io_;
  Endpoint ep_;
  PolicyOptions opt_;
};

}  // namespace

std::unique_ptr<Policy> make_openai_policy(const std::string& url_and_model, boost::asio::io_context& io,
                                           const PolicyOptions& options) {
  return std::make_unique<OpenAIPolicy>(io, parse_endpoint(url_and_model), options);
}

}  // namespace swebox::runner
