#include "tasks/judge.h"

#include <chrono>
#include <stdexcept>

#include "tasks/reports.h"
#include "tasks/similarity_reward.h"

namespace swebox::tasks {
namespace {

using Clock = std::chrono::steady_clock;
using traj::ExitStatus;

double ms_since(Clock::time_point t) { return std::chrono::duration<double, std::milli>(Clock::now() - t).count(); }

// Docker has no upper layer on the host: the diff is taken inside the container, restarted bare by
// stop_processes() (nothing of the agent runs), with git's hooks, fsmonitor and the like off. What
// runs there is the agent's own repository, so it can shape the diff only as it could shape its files.
WorkspaceDiffResult container_diff(sandbox::Sandbox& box, const std::string& workspace, const std::string& base_commit,
                                   const WorkspaceDiffLimits& limits) {
  const std::string git = "git -c safe.directory='*' -c core.fsmonitor=false -c core.hooksPath=/dev/null "
                          "-c core.quotepath=false ";
  sandbox::ExecRequest req;
  req.argv = {"bash", "-c",
              "cd '" + workspace + "' && " + git + "add -A . >/dev/null 2>&1; " + git + "diff --cached --binary " +
                  base_commit};
  req.timeout_s = limits.max_seconds;
  sandbox::ExecResult r = box.exec(req);
  WorkspaceDiffResult out;
  if (r.out_truncated || r.out.size() > limits.max_patch_bytes) {
    out.refused = true;
    out.refused_reason = "the patch is over " + std::to_string(std::min<uint64_t>(limits.max_patch_bytes, r.out.size())) +
                         " bytes (the container's output limit or the patch cap)";
    return out;
  }
  if (r.reason != sandbox::StopReason::exited || r.exit_code != 0)
    throw std::runtime_error("git diff in the sandbox failed (" + std::string(sandbox::to_string(r.reason)) + ", exit " +
                             std::to_string(r.exit_code) + "): " + r.err.substr(0, 300));
  out.patch = std::move(r.out);
  return out;
}

// Stops the sandbox, takes the diff, destroys the sandbox.
WorkspaceDiffResult take_final_diff(const Instance& inst, std::unique_ptr<sandbox::Sandbox> box,
                                    const std::string& base_tree, const std::string& workspace,
                                    const JudgeConfig& config, Verdict& v) {
  WorkspaceDiffResult diff;
  auto t0 = Clock::now();
  bool stopped = false;
  try {
    box->stop_processes();
    stopped = true;
  } catch (const std::exception& e) {
    v.audit["processes_not_stopped"] = e.what();
  }
  try {
    if (!stopped) {
      // Something of the agent may still be writing: nothing read now could be trusted.
      diff.refused = true;
      diff.refused_reason = "the sandbox's processes could not be stopped";
    } else if (std::string upper = box->upper_dir(); !upper.empty()) {
      WorkspaceDiffOptions o;
      o.limits = config.diff_limits;
      diff = upper_layer_diff(upper, base_tree, inst.base_commit, o);
    } else {
      diff = container_diff(*box, workspace, inst.base_commit, config.diff_limits);
    }
  } catch (const std::exception& e) {
    diff = {};
    diff.refused = true;
    diff.refused_reason = std::string("the final diff could not be taken: ") + e.what();
  }
  v.stats["diff_ms"] = ms_since(t0);
  auto t1 = Clock::now();
  try {
    box->destroy();
  } catch (const std::exception& e) {
    v.notes += std::string("; the sandbox could not be destroyed: ") + e.what();
  }
  box.reset();
  v.stats["teardown_ms"] = ms_since(t1);
  return diff;
}

// The verdict on a patch that is not evaluated because the diff was refused: unresolved, with the
// reason in the report.
EvalResult refused_result(const Instance& inst, const EpisodeOutcome& outcome, const JudgeConfig& config,
                          const std::string& reason) {
  EvalResult er;
  er.instance_id = inst.instance_id;
  er.model = outcome.model;
  er.grading = config.eval.grading;
  er.resolved = false;
  er.audit["diff_refused"] = reason;
  er.log.push_back("not evaluated: the workspace diff was refused (" + reason + "); the verdict is unresolved");
  return er;
}

void compute_rewards(const Instance& inst, const JudgeConfig& config, bool submitted, bool resolved,
                     const std::string& judged_patch, traj::Rewards& r) {
  // CWM: only a submitted episode can pass; max turns, context overflow, format errors give -1.
  bool passed = submitted && resolved;
  r.mode = to_string(config.reward);
  r.details["resolved"] = resolved;
  switch (config.reward) {
    case RewardKind::none: r.total = 0; break;
    case RewardKind::test:
      r.test = test_reward(passed);
      r.total = *r.test;
      break;
    case RewardKind::similarity: {
      SimilarityResult sim = unidiff_reward(inst.patch, judged_patch);
      r.similarity = sim.reward;
      r.total = submitted ? sim.reward : -1.0;
      break;
    }
    case RewardKind::both: {
      RewardOptions ro{RewardMode::similarities, config.similarity_threshold};
      RewardParts parts = shaped_reward(ro, passed, inst.patch, submitted ? judged_patch : "");
      r.test = parts.test;
      r.similarity = parts.similarity;
      r.total = parts.total;
      r.details["threshold"] = config.similarity_threshold;
      r.details["shaping"] = parts.mode;
      break;
    }
  }
}

}  // namespace

RewardKind parse_reward_kind(const std::string& name) {
  if (name == "test") return RewardKind::test;
  if (name == "similarity") return RewardKind::similarity;
  if (name == "both") return RewardKind::both;
  if (name == "none") return RewardKind::none;
  throw std::invalid_argument("unknown reward '" + name + "' (use test, similarity, both or none)");
}

const char* to_string(RewardKind k) {
  switch (k) {
    case RewardKind::test: return "test";
    case RewardKind::similarity: return "similarity";
    case RewardKind::both: return "both";
    case RewardKind::none: return "none";
  }
  return "none";
}

Verdict judge_episode(const Instance& inst, std::unique_ptr<sandbox::Sandbox> box, const std::string& base_tree,
                      const std::string& workspace, const EpisodeOutcome& outcome, const JudgeConfig& config) {
  Verdict v;
  v.audit["grading"] = to_string(config.eval.grading);
  bool have_diff = false;
  WorkspaceDiffResult diff;
  if (box) {
    diff = take_final_diff(inst, std::move(box), base_tree, workspace, config, v);
    have_diff = true;
    v.workspace_diff = diff.patch;
    nlohmann::json diff_audit = diff.audit();  // items() must not outlive it
    for (auto& [k, val] : diff_audit.items()) v.audit[k] = val;
    if (diff.refused) v.notes += "; the workspace diff was refused: " + diff.refused_reason;
  }

  // Which patch is judged: in sealed mode what the agent submitted (its answer), else (nothing
  // submitted, or swebench mode) the whole workspace diff.
  bool use_submission = config.eval.grading == GradingMode::sealed && outcome.submission.has_value();
  const std::string& judged = use_submission ? *outcome.submission : v.workspace_diff;
  v.audit["judged"] = use_submission ? "submission" : "workspace";
  if (outcome.submission && have_diff && !diff.refused)
    v.audit["submission_differs"] = *outcome.submission != v.workspace_diff;
  bool judged_refused = !use_submission && have_diff && diff.refused;

  bool submitted = outcome.status == ExitStatus::submitted;
  bool resolved = false;
  if (config.evaluate && outcome.status != ExitStatus::env_error) {
    auto t0 = Clock::now();
    EvalResult er;
    if (judged_refused) {
      er = refused_result(inst, outcome, config, diff.refused_reason);
    } else {
      Prediction p{inst.instance_id, outcome.model, judged};
      er = evaluate_instance(inst, p, config.eval);
    }
    v.eval_ms = ms_since(t0);
    nlohmann::json report = instance_report(er);
    v.eval = report.contains(inst.instance_id) ? report[inst.instance_id] : report;
    resolved = er.resolved;
    if (!er.audit.empty()) v.audit["evaluation"] = er.audit;
    if (!config.report_dir.empty()) {
      try {
        write_instance_report(instance_report_dir(config.report_dir, config.report_run, outcome.model, inst.instance_id), er);
      } catch (const std::exception& e) {
        v.notes += std::string("; the evaluation files could not be written: ") + e.what();
      }
    }
    if (er.infra_failure) {
      v.rewards.details["infra_failure"] = er.infra_failure_reason;
      v.notes += "; the evaluation could not be done (infrastructure): " + er.infra_failure_reason;
    }
  }
  compute_rewards(inst, config, submitted, resolved, judged, v.rewards);
  return v;
}

}  // namespace swebox::tasks
