// A policy chooses the agent's next action from the conversation so far. One small interface,
// one file per kind (policy_openai.cc, policy_replay.cc, policy_oracle.cc, policy_model.cc):
//   openai:URL[#model]   an OpenAI-compatible server (chat/completions, or completions with ?api=completions)
//   replay:TRAJ          the recorded actions of a trajectories file, re-issued in order
//   oracle               applies the task's gold patch through the tools and submits it
//   model:PATH[?tokenizer=FILE]  the embedded model (model/), on the CPU
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>

#include <boost/asio/io_context.hpp>
#include <nlohmann/json.hpp>

#include "runner/profile.h"
#include "tasks/suite.h"
#include "tools/action_parser.h"
#include "trajectories/record.h"

namespace swebox::runner {

// Why a policy could not produce an action.
struct PolicyError {
  enum class Kind { context_exceeded, unavailable, exhausted, other } kind = Kind::other;
  std::string message;
};

using ActionHandler = std::function<void(std::optional<PolicyError>, traj::Action)>;

// One episode's view of a policy. Calls are sequential within an episode.
class PolicySession {
 public:
  virtual ~PolicySession() = default;
  // Produces the next action for `so_far` (prompt, earlier turns with their observations).
  // The handler runs on the policy's io_context, never inline.
  virtual void async_next(const traj::Episode& so_far, ActionHandler done) = 0;
  // A replayed episode: the recording whose observations the new ones should match.
  virtual const traj::Episode* recorded() const { return nullptr; }
};

struct EpisodeStart {
  const tasks::Instance& instance;
  int sample = 0;
  // The workspace path inside the sandbox (where the repository is), for policies that act on it.
  std::string workspace = "/testbed";
  // What the recorded context holds after each observation (the think prefix), and the longest
  // action the episode takes (tokens): a policy that can cap generation caps it there.
  tools::ThinkMode think = tools::ThinkMode::off;
  size_t max_action_len = 0;  // 0: no cap
};

class Policy {
 public:
  virtual ~Policy() = default;
  virtual std::unique_ptr<PolicySession> start(const EpisodeStart& start) = 0;
  // model_name_or_path for predictions.
  virtual std::string model_name() const = 0;
  // Sampling parameters recorded with each episode.
  virtual nlohmann::json sampling() const { return nlohmann::json::object(); }
  // Before the first episode (blocking, seconds at most): "" when the policy can serve, else what
  // is wrong in words (an endpoint that does not answer, a model it does not serve).
  virtual std::string preflight() { return ""; }
  // The file holding the tokenizer this policy generates with ("" = not known here): the run's
  // budgets count with it when --tokenizer is not given (the embedded model's own vocabulary).
  virtual std::string tokenizer_file() const { return ""; }
};

struct PolicySpecError : std::invalid_argument {
  using std::invalid_argument::invalid_argument;
};

struct PolicyOptions {
  Profile profile = Profile::swebox;  // how the context is laid out for a server (runner/profile.h)
  double request_timeout_s = 600;
  int max_retries = 6;
  double backoff_initial_s = 1.0;
  double backoff_max_s = 60.0;
  nlohmann::json sampling = nlohmann::json::object();  // temperature, top_p, max_tokens, seed, stop
  // Told of each retry, on the policy's io_context (the run prints it: an endpoint in trouble is
  // otherwise silent until an episode gives up, a minute later).
  std::function<void(const std::string& what)> on_retry;
};

// Parses a --policy spec; throws PolicySpecError naming the spec and the accepted forms.
std::unique_ptr<Policy> make_policy(const std::string& spec, boost::asio::io_context& io,
                                    const PolicyOptions& options = {});

// The per-kind constructors (one file each).
std::unique_ptr<Policy> make_openai_policy(const std::string& url_and_model, boost::asio::io_context& io,
                                           const PolicyOptions& options);
std::unique_ptr<Policy> make_replay_policy(const std::string& trajectories_path, boost::asio::io_context& io);
std::unique_ptr<Policy> make_oracle_policy(boost::asio::io_context& io);
std::unique_ptr<Policy> make_model_policy(const std::string& path_and_options, boost::asio::io_context& io,
                                          const PolicyOptions& options);

}  // namespace swebox::runner
