// One episode: an agent (a policy) works on one task instance in its own sandbox until it submits,
// hits a limit or fails; then the judge (tasks/judge.h) takes it over: diff, evaluation, rewards.
// The control flow lives in episode.cc, top to bottom, and nowhere else.
#pragma once

#include <functional>
#include <string>

#include <boost/asio/io_context.hpp>
#include <boost/asio/thread_pool.hpp>
#include <nlohmann/json.hpp>

#include "model/tokenizer.h"
#include "runner/policy.h"
#include "runner/profile.h"
#include "sandbox/sandbox.h"
#include "tasks/environment.h"
#include "tasks/evaluation.h"
#include "tasks/judge.h"
#include "tasks/suite.h"
#include "tasks/workspace_cache.h"
#include "tools/action_parser.h"
#include "tools/observation.h"
#include "tools/template.h"
#include "trajectories/record.h"

namespace swebox::runner {

// The episode reward is the judge's (tasks/judge.h).
using tasks::RewardKind;
using tasks::parse_reward_kind;

// Defaults are CWM's (docs/formats.md §1.6).
struct EpisodeConfig {
  Profile profile = Profile::swebox;   // runner/profile.h: which environment the episode reproduces
  long max_turns = 128;
  size_t context_size = 131072;
  size_t max_prompt_len = 8192;
  size_t max_user_turn_len = 32768;
  size_t max_action_len = 65536;       // tokens; a longer action ends the episode (limit)
  bool strict = false;                 // strict: any format error fails the episode (CWM training)
  int max_format_errors = 3;           // lenient: consecutive format errors that end it (mini-swe-agent); 0: no cap (CWM)
  double wall_limit_s = 2400;          // the sandbox's lifetime
  double bash_timeout_s = 120;
  tools::ThinkMode think = tools::ThinkMode::off;
  bool plugins = true;                 // offer edit and create
  RewardKind reward = RewardKind::test;
  double similarity_threshold = 0.5;
  std::string task_kind = "solve";
  std::string workspace = "/testbed";
  bool evaluate = true;                // run the task's tests on the judged patch
  double eval_timeout_s = 1800;
  // sealed: the submission is judged (the workspace diff when nothing was submitted), test
  // infrastructure stripped; swebench: the workspace diff, as SWE-bench would (tasks/evaluation.h).
  tasks::GradingMode grading = tasks::GradingMode::sealed;
  // The workspace's changes capped at 1 GiB (a tmpfs: the agent gets "No space left on device").
  sandbox::Limits limits = [] { sandbox::Limits l; l.workspace_bytes = 1ull << 30; return l; }();
  sandbox::Backend backend = sandbox::Backend::native;
  // What counts the context's tokens for the budgets and limits: a tokenizer (`--tokenizer FILE`),
  // or ceil(bytes / 4) when none is known. tokenizer_id is its file's content id, for the record.
  std::shared_ptr<const model::Tokenizer> tokenizer;
  std::string tokenizer_id;

  nlohmann::json to_json() const;
  // The tokenizer's kind, source and file id, or "bytes/4": recorded as config.token_counter.
  nlohmann::json token_counter() const;
  tools::TokenCounter count_tokens() const;
};

// What all episodes of a run share. Everything here is used from several threads at once.
struct EpisodeServices {
  boost::asio::io_context& io;             // policy calls, tool calls, bookkeeping
  boost::asio::thread_pool& blocking;      // workspace and sandbox set-up, diff, evaluation, teardown
  tasks::WorkspaceCache& cache;
  const tasks::EnvironmentTable& environments;
  std::string repos_dir;
  const tools::Templates& templates;
  Policy& policy;
  std::string policy_spec;                 // as given to --policy, recorded with each episode
  std::string run_id;
  std::string report_dir;                  // where per-instance evaluation files go ("" = none)
  // The template set, recorded with each episode: {"set": "shipped" or the --templates dir, "content_id"}.
  nlohmann::json templates_id = nlohmann::json::object();
  // Called on `io` before each policy request, with the episode so far (a live display's turn count).
  std::function<void(const traj::Episode&)> on_turn = {};
};

// Starts one episode; `done` runs once on `io` with the finished record (never throws: failures
// are records with exit status env_error and a reason).
void run_episode(const EpisodeServices& services, const EpisodeConfig& config, const tasks::Instance& instance,
                 int sample, std::function<void(traj::Episode)> done);

// The same, blocking: runs its own io_context and pool until the episode is done (tests, tools).
traj::Episode run_episode_blocking(tasks::WorkspaceCache& cache, const tasks::EnvironmentTable& environments,
                                   const std::string& repos_dir, Policy& policy, boost::asio::io_context& io,
                                   const EpisodeConfig& config, const tasks::Instance& instance, int sample = 0,
                                   const tools::Templates& templates = tools::default_templates());

}  // namespace swebox::runner
