// The judge of an episode: everything after the agent's last action. It stops the sandbox's
// processes (nothing the agent left running can change or swap what is read), takes the final diff
// from the sandbox's upper layer over the trusted base tree (never through the agent's paths),
// destroys the sandbox, picks the patch to judge by grading mode, evaluates it in a fresh sandbox,
// writes the report files and computes the rewards. The episode loop (runner/episode.cc) hands
// over the sandbox and what the episode produced, and records what comes back.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "sandbox/sandbox.h"
#include "tasks/evaluation.h"
#include "tasks/rewards.h"
#include "tasks/suite.h"
#include "tasks/workspace_diff.h"
#include "trajectories/record.h"

namespace swebox::tasks {

// The episode reward (`swebox run --reward`).
enum class RewardKind { test, similarity, both, none };
// Throws std::invalid_argument naming the accepted values.
RewardKind parse_reward_kind(const std::string& name);
const char* to_string(RewardKind k);

struct JudgeConfig {
  bool evaluate = true;        // run the task's tests on the judged patch
  EvalOptions eval;            // eval.grading is the grading mode (sealed by default for episodes)
  WorkspaceDiffLimits diff_limits;
  RewardKind reward = RewardKind::test;
  double similarity_threshold = 0.5;
  std::string report_dir;      // where the per-instance evaluation files go ("" = none)
  std::string report_run;      // the run's name in their path (run id, "-sK" for sample K > 0)
  JudgeConfig() { eval.grading = GradingMode::sealed; }
};

// What the episode produced, as the loop saw it.
struct EpisodeOutcome {
  traj::ExitStatus status = traj::ExitStatus::env_error;
  std::optional<std::string> submission;  // the last submitted file's content, if any
  std::string model;                      // model_name_or_path in the reports
  int sample = 0;
};

struct Verdict {
  std::string workspace_diff;   // the final diff of the workspace ("" when refused or not taken)
  nlohmann::json eval;          // the instance's report.json entry; null when not evaluated
  double eval_ms = 0;
  traj::Rewards rewards;
  // {"grading", "judged": "submission" | "workspace", "submission_differs", "git_touched",
  //  "diff_refused", "skipped_special", "processes_not_stopped", "evaluation": EvalResult::audit, ...}
  nlohmann::json audit = nlohmann::json::object();
  std::string notes;            // to append to the episode's reason ("; ..."), "" when none
  nlohmann::json stats = nlohmann::json::object();  // diff_ms, teardown_ms
};

// Judges one finished episode. Takes the sandbox (null when none could be made) and destroys it;
// `base_tree` is the trusted lower layer it was made over (the cache's tree of the base commit),
// `workspace` the workspace's path inside it. Never throws: failures come back in notes/audit.
Verdict judge_episode(const Instance& instance, std::unique_ptr<sandbox::Sandbox> sandbox,
                      const std::string& base_tree, const std::string& workspace, const EpisodeOutcome& outcome,
                      const JudgeConfig& config);

}  // namespace swebox::tasks
