#include "tasks/evaluation.h"

#include <chrono>
#include <cstdio>
#include <random>
#include <sstream>
#include <stdexcept>

#include <boost/asio/io_context.hpp>

#include "tasks/grading.h"
#include "tasks/instance_image.h"
#include "tasks/junit_report.h"
#include "tasks/patch_apply.h"
#include "tasks/repository.h"
#include "tasks/sealing.h"
#include "tasks/workspace_cache.h"

namespace swebox::tasks {

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

// run_instance.log: one line per step, with the seconds since the evaluation began.
struct RunLog {
  Clock::time_point start = Clock::now();
  std::vector<std::string>* lines;
  void operator()(const std::string& what) {
    char stamp[32];
    std::snprintf(stamp, sizeof stamp, "[%8.3fs] ", seconds_since(start));
    std::istringstream in(what);
    for (std::string l; std::getline(in, l);) lines->push_back(stamp + l);
  }
};

std::string format_seconds(double s) {
  char b[32];
  std::snprintf(b, sizeof b, "%g", s);
  return b;
}

void infra(EvalResult& r, RunLog& log, const std::string& reason) {
  r.infra_failure = true;
  r.infra_failure_reason = reason;
  log("infra failure: " + reason);
}

// A directory name in the sandbox's /tmp that the code under test cannot guess in advance.
std::string secret_state_dir() {
  std::random_device rd;
  char b[64];
  std::snprintf(b, sizeof b, "/tmp/.swebox-judge-%08x%08x%08x%08x", rd(), rd(), rd(), rd());
  return b;
}

bool passing(const nlohmann::ordered_json& status, const char* list, const std::string& id) {
  const auto& s = status[list]["success"];
  return std::find(s.begin(), s.end(), id) != s.end();
}

// The listed tests whose outcome on stdout differs from the JUnit report's.
nlohmann::json disagreements(const Instance& instance, const nlohmann::ordered_json& stdout_status,
                             const nlohmann::ordered_json& junit_status) {
  nlohmann::json out = nlohmann::json::array();
  for (const char* list : {"FAIL_TO_PASS", "PASS_TO_PASS"}) {
    const auto& ids = std::string(list) == "FAIL_TO_PASS" ? instance.FAIL_TO_PASS : instance.PASS_TO_PASS;
    for (const auto& id : ids) {
      bool a = passing(stdout_status, list, id), b = passing(junit_status, list, id);
      if (a != b)
        out.push_back({{"test", id}, {"list", list}, {"stdout", a ? "success" : "failure"}, {"junit", b ? "success" : "failure"}});
    }
  }
  return out;
}

// Ends an evaluation: the total time and where it went, in the log.
EvalResult finished(EvalResult& r, RunLog& log) {
  r.timing.total_s = seconds_since(log.start);
  char b[256];
  std::snprintf(b, sizeof b, "done in %.3fs (workspace %.3fs, sandbox %.3fs, apply %.3fs, eval script %.3fs, tests %.3fs)",
                r.timing.total_s, r.timing.workspace_s, r.timing.sandbox_s, r.timing.apply_s, r.timing.script_s,
                r.timing.test_s);
  log(b);
  std::snprintf(b, sizeof b, "timing: total=%.6f workspace=%.6f sandbox=%.6f apply=%.6f script=%.6f test=%.6f harness=%.6f",
                r.timing.total_s, r.timing.workspace_s, r.timing.sandbox_s, r.timing.apply_s, r.timing.script_s,
                r.timing.test_s, r.timing.harness_s());
  log(b);
  return r;
}

// The prediction (r.patch, which exists), applied in /testbed as SWE-bench applies it. False when
// the evaluation ends here: the patch did not apply (r says so, as SWE-bench: no tests run), or the
// apply chain could not run (an infra failure); the sandbox is then destroyed.
bool apply_prediction(sandbox::Sandbox& box, EvalResult& r, RunLog& log, double apply_timeout_s) {
  auto t = Clock::now();
  if (auto err = box.write_file("/tmp/patch.diff", r.patch)) {
    infra(r, log, "could not write /tmp/patch.diff in the sandbox: " + err->message);
    box.destroy();
    return false;
  }
  sandbox::ExecRequest apply;
  apply.argv = {"/bin/bash", "-s"};
  apply.stdin_data = apply_patch_script("/tmp/patch.diff", "/testbed");
  apply.cwd = "/testbed";
  apply.timeout_s = apply_timeout_s;
  apply.merge_stderr = true;
  sandbox::ExecResult ran = box.exec(apply);
  r.timing.apply_s = seconds_since(t);
  const std::string& apply_output = ran.out;
  log(apply_output);
  if (ran.reason == sandbox::StopReason::timeout || ran.reason == sandbox::StopReason::error) {
    r.test_output += apply_output;
    infra(r, log, "the patch apply chain did not finish: " + ran.detail);
    box.destroy();
    return false;
  }
  ApplyResult applied = parse_apply_script_output(apply_output);
  if (!applied.applied && !applied.already_applied) {
    // As SWE-bench: no tests run; the apply chain's output is all there is to see.
    r.test_output += apply_output;
    r.patch_applied = false;
    log(">>>>> Patch Apply Failed");
    if (r.test_output.find(">>>>> Patch Apply Failed") == std::string::npos) r.test_output += ">>>>> Patch Apply Failed\n";
    t = Clock::now();
    box.destroy();
    r.timing.sandbox_s += seconds_since(t);
    return false;
  }
  if (applied.already_applied && applied.strategy.empty()) applied.strategy = "already applied";
  r.patch_applied = true;
  r.apply_strategy = applied.strategy;
  log(std::string(applied.already_applied ? ">>>>> Patch Already Applied" : ">>>>> Applied Patch") + " (" + applied.strategy + ")");
  return true;
}

// Runs the eval script (`request`; the time limit is set here); its output, with SWE-bench's
// timeout line, goes to r.test_output. False when it could not run at all: an infra failure, the
// sandbox destroyed.
bool run_eval_script(sandbox::Sandbox& box, sandbox::ExecRequest request, EvalResult& r, RunLog& log,
                     const EvalOptions& options, sandbox::ExecResult& run) {
  auto t = Clock::now();
  request.timeout_s = options.timeout_s;
  request.merge_stderr = true;
  run = box.exec(request);
  r.timing.script_s = seconds_since(t);
  std::string output = run.out;
  if (run.reason == sandbox::StopReason::timeout) {
    r.timed_out = true;
    output += "\n\nTimeout error: " + format_seconds(options.timeout_s) + " seconds exceeded.";
    log("eval script timed out after " + format_seconds(options.timeout_s) + " s");
  } else if (run.reason != sandbox::StopReason::exited && run.reason != sandbox::StopReason::signaled) {
    log(std::string("eval script stopped: ") + sandbox::to_string(run.reason) + " " + run.detail);
  }
  r.test_output += output;
  if (run.reason == sandbox::StopReason::error) {
    infra(r, log, "the eval script could not be run in the sandbox: " + run.detail);
    box.destroy();
    return false;
  }
  log("eval script exited with status " + std::to_string(run.status()) + " after " + format_seconds(run.wall_s) + " s");
  return true;
}

// The grade's verdict in the result, as SWE-bench reports it.
void record_grade(EvalResult& r, const Grade& grade, const EvalOptions& options, RunLog& log) {
  r.gradeable = grade.gradeable;
  r.ungradeable_reason = grade.ungradeable_reason;
  if (r.timed_out && !r.gradeable)
    r.ungradeable_reason = "Timeout error: " + format_seconds(options.timeout_s) + " seconds exceeded";
  r.test_exit_code = grade.test_exit_code.value_or(-1);
  r.tests_status = tests_status_json(grade.tests_status);
  r.resolution = to_string(grade.resolution);
  // SWE-bench: only a patch that exists and applied can resolve an instance.
  r.resolved = r.patch_exists && r.patch_applied && grade.resolved;
  log(std::string("graded: ") + (r.gradeable ? "" : "ungradeable (" + r.ungradeable_reason + "), ") + "resolution " +
      (r.resolution.empty() ? "NO" : r.resolution) + ", resolved " + (r.resolved ? "true" : "false"));
}

GradingOptions grading_options(const Instance& instance, const EvalOptions& options) {
  GradingOptions gopts;
  gopts.eval_type = parse_eval_type(instance.eval_type);
  gopts.v4_1_compat = options.v4_1_compat;
  return gopts;
}

// The test output graded as SWE-bench grades it; nullopt (an infra failure in r) when it cannot be.
std::optional<Grade> grade_output(const Instance& instance, const std::string& parser, const EvalOptions& options,
                                  EvalResult& r, RunLog& log) {
  try {
    return grade_log(r.test_output, instance.FAIL_TO_PASS, instance.PASS_TO_PASS, parser, grading_options(instance, options));
  } catch (const std::exception& e) {
    infra(r, log, std::string("grading: ") + e.what());
    return std::nullopt;
  }
}

// SWE-bench's own evaluation (run_evaluation.py's run_instance) in the instance's image: a
// container of it (network none; commands as root); the prediction written to /tmp/patch.diff and
// applied in /testbed; the eval script, as it is (conda activation included), written to /eval.sh
// and run with `/bin/bash /eval.sh`; its output graded with the instance's log parser. No base
// tree and no host environment; no tree examination either (it compares with swebox's own base
// tree), so no sealed grading.
EvalResult evaluate_in_instance_image(const Instance& instance, const EvalOptions& options, EvalResult& r, RunLog& log) {
  r.audit["mode"] = to_string(options.grading);
  log(std::string("grading mode: ") + to_string(options.grading));
  std::string image;
  try {
    image = instance_image(instance, options.image_template);
  } catch (const std::exception& e) {
    infra(r, log, e.what());
    return finished(r, log);
  }
  if (image.empty()) {
    infra(r, log, "no image to evaluate " + instance.instance_id + " in: its suite record has no `image` and no "
                  "--image-template was given (SWE-bench's local names: --image-template "
                  "'sweb.eval.x86_64.{instance_id_lower}:latest')");
    return finished(r, log);
  }
  r.audit["image"] = image;
  r.audit["eval_script"] = "as it is, in the instance image";
  log("image: " + image + " (the eval script runs as SWE-bench runs it there: /testbed, conda activation, as root)");
  if (options.grading == GradingMode::sealed) {
    infra(r, log, "sealed grading is not available in an instance image (it adapts the eval script and judges the "
                  "patched tree against swebox's own base tree); evaluate with --grading swebench");
    return finished(r, log);
  }
  if (!options.environments) {
    infra(r, log, "no environment table was given to the evaluation");
    return finished(r, log);
  }
  TestSpec spec = make_image_test_spec(instance, options.environments->resolve(instance.repo, instance.version));
  r.eval_script = spec.eval_script;
  log("eval script: " + spec.origin + ", log parser " + spec.log_parser);
  if (!is_known_parser(spec.log_parser)) {
    infra(r, log, "unknown log parser '" + spec.log_parser + "' (the instance's log_parser field or " +
                      options.environments->source() + ")");
    return finished(r, log);
  }

  auto t = Clock::now();
  boost::asio::io_context io;
  std::unique_ptr<sandbox::Sandbox> box;
  sandbox::Config config;
  config.docker_image = image;
  config.docker_image_workspace = true;
  config.workspace_mount = "/testbed";
  config.network = sandbox::Network::none;
  config.limits = options.limits;
  config.hostname = "swebox-eval";
  try {
    box = sandbox::make_sandbox(io, config, sandbox::Backend::docker);
  } catch (const sandbox::SandboxImageMissing&) {
    r.timing.sandbox_s = seconds_since(t);
    infra(r, log, "the image " + image + " for " + instance.instance_id + " is not on this host; " +
                      instance_image_hint(instance.instance_id));
    return finished(r, log);
  } catch (const std::exception& e) {
    r.timing.sandbox_s = seconds_since(t);
    infra(r, log, std::string("sandbox: ") + e.what());
    return finished(r, log);
  }
  r.timing.sandbox_s = seconds_since(t);

  try {
    if (r.patch_exists) {
      if (!apply_prediction(*box, r, log, options.apply_timeout_s)) return finished(r, log);
    } else {
      log(r.patch_is_none ? "no patch (null): the tests run on the image's tree" : "empty patch: the tests run on the image's tree");
    }
    if (auto err = box->write_file("/eval.sh", spec.eval_script)) {
      infra(r, log, "could not write /eval.sh in the container: " + err->message);
      box->destroy();
      return finished(r, log);
    }
    sandbox::ExecRequest req;
    req.argv = {"/bin/bash", "/eval.sh"};
    req.cwd = "/testbed";
    sandbox::ExecResult run;
    if (!run_eval_script(*box, req, r, log, options, run)) return finished(r, log);
    t = Clock::now();
    box->destroy();
    r.timing.sandbox_s += seconds_since(t);
  } catch (const std::exception& e) {
    infra(r, log, std::string("sandbox: ") + e.what());
    return finished(r, log);
  }

  std::optional<Grade> grade = grade_output(instance, spec.log_parser, options, r, log);
  if (!grade) return finished(r, log);
  record_grade(r, *grade, options, log);
  r.audit["flagged"] = false;
  return finished(r, log);
}

}  // namespace

const char* to_string(GradingMode mode) { return mode == GradingMode::sealed ? "sealed" : "swebench"; }

GradingMode parse_grading_mode(const std::string& name) {
  if (name == "swebench") return GradingMode::swebench;
  if (name == "sealed") return GradingMode::sealed;
  throw std::invalid_argument("unknown grading mode '" + name + "' (use swebench or sealed)");
}

EvalResult evaluate_instance(const Instance& instance, const Prediction& prediction, const EvalOptions& options) {
  auto t_start = Clock::now();
  EvalResult r;
  auto patch_files_or_empty = [](const std::string& patch) {
    try {
      return patch_files(patch);
    } catch (const std::exception&) {
      return modified_test_files(patch);
    }
  };
  r.instance_id = instance.instance_id;
  r.model = prediction.model_name_or_path;
  r.patch_is_none = !prediction.model_patch.has_value();
  r.patch = prediction.model_patch.value_or("");
  r.patch_exists = !r.patch.empty();
  r.grading = options.grading;
  RunLog log{t_start, &r.log};
  log("evaluating " + instance.instance_id + " (" + instance.repo + " " + instance.version + ", base " +
      instance.base_commit + ") for model " + r.model);
  if (options.instance_images) return evaluate_in_instance_image(instance, options, r, log);
  auto finish = [&]() -> EvalResult { return finished(r, log); };

  // What to run.
  if (!options.environments) {
    infra(r, log, "no environment table was given to the evaluation");
    return finish();
  }
  Environment env = options.environments->resolve(instance.repo, instance.version);
  if (!env.known)
    log("no entry for " + instance.repo + " " + instance.version + " in " + options.environments->source() +
        "; the defaults apply");
  // A version the table marks as not runnable here: saying so beats a verdict from the wrong environment.
  if (std::string why = environment_unsupported(env); !why.empty()) {
    infra(r, log, "environment not supported: " + why + " (" + options.environments->source() + ")");
    return finish();
  }
  const bool sealed = options.grading == GradingMode::sealed;
  const std::string state = secret_state_dir();
  EvalScriptOptions script_options;
  script_options.sealed = sealed;
  script_options.junit_path = state + "/junit.xml";
  TestSpec spec = make_test_spec(instance, env, script_options);
  r.eval_script = spec.eval_script;
  r.audit["mode"] = to_string(options.grading);
  log(std::string("grading mode: ") + to_string(options.grading));
  log("eval script: " + spec.origin + ", log parser " + spec.log_parser);
  if (!is_known_parser(spec.log_parser)) {
    infra(r, log, "unknown log parser '" + spec.log_parser + "' (the instance's log_parser field or " +
                      options.environments->source() + ")");
    return finish();
  }
  for (const auto& d : spec.dropped_lines) log("  replaced for this host: " + d);

  // What the tests need on this host; a missing package is the environment's fault, not the patch's.
  if (std::string problem = environment_problem(env); !problem.empty()) {
    std::string hint = options.env_setup_hint.empty() ? "swebox env setup --suite SUITE" : options.env_setup_hint;
    infra(r, log, problem + " — run `" + hint + "`");
    return finish();
  }

  // The base tree (cached, history scrubbed).
  std::string tree;
  auto t = Clock::now();
  try {
    WorkspaceCache cache(options.repos_dir, options.cache_dir);
    tree = cache.base_tree(instance);
  } catch (const std::exception& e) {
    r.timing.workspace_s = seconds_since(t);
    infra(r, log, std::string("workspace: ") + e.what());
    return finish();
  }
  r.timing.workspace_s = seconds_since(t);
  log("base tree: " + tree);

  // A fresh sandbox over it, no network (loopback alone where the table says the tests need it).
  t = Clock::now();
  boost::asio::io_context io;
  std::unique_ptr<sandbox::Sandbox> box;
  sandbox::Config config;
  config.workspace_lowers = {tree};
  config.workspace_mount = "/testbed";
  config.system_paths = system_paths(env);
  config.network = env.network == "loopback" ? sandbox::Network::loopback : sandbox::Network::none;
  config.limits = options.limits;
  config.hostname = "swebox-eval";
  try {
    box = sandbox::make_sandbox(io, config, options.backend);
  } catch (const std::exception& e) {
    r.timing.sandbox_s = seconds_since(t);
    infra(r, log, std::string("sandbox: ") + e.what());
    return finish();
  }
  r.timing.sandbox_s = seconds_since(t);

  std::string sealed_failure;           // sealed: why the tree could not be judged
  std::optional<std::string> junit_xml; // the JUnit report, when one was asked for and written
  std::optional<int> script_test_status;  // the test command's exit status as the script recorded it
  try {
    // A private state folder with a copy of .git from before the patch: what the patched tree is
    // compared with (both modes), and what sealed grading restores.
    if (std::string err = prepare_sealing(*box, state); !err.empty()) {
      infra(r, log, err);
      box->destroy();
      return finish();
    }
    // The prediction, applied as SWE-bench applies it.
    if (r.patch_exists) {
      if (!apply_prediction(*box, r, log, options.apply_timeout_s)) return finish();

      // What the patch did to the tree; test infrastructure flagged (swebench) or put back (sealed).
      auto t_seal = Clock::now();
      TreeExamination exam;
      exam.seal = sealed;
      exam.state_dir = state;
      exam.context.test_patch_files = patch_files_or_empty(instance.test_patch);
      exam.context.test_commands = spec.test_commands;
      exam.context.test_infra_globs = env.test_infra;
      exam.context.outside_modules = outside_modules(*box, env.interpreter);
      TreeVerdict verdict = examine_tree(*box, exam);
      r.timing.apply_s += seconds_since(t_seal);
      log("tree examination (ms): " + verdict.steps_ms.dump());
      r.audit[sealed ? "stripped" : "would_strip"] = verdict.entries;
      r.audit["reset_files"] = verdict.reset_files;
      r.audit["git_dir_changed"] = verdict.git_dir_changed;
      for (const auto& e : verdict.entries)
        log(std::string(sealed ? "sealed: stripped " : "flagged (sealed grading would strip) ") + e["path"].get<std::string>() +
            " [" + e["change"].get<std::string>() + ", " + e["part"].get<std::string>() + "]: " + e["why"].get<std::string>());
      if (!verdict.error.empty()) {
        log("tree examination: " + verdict.error);
        r.audit["examination_error"] = verdict.error;
        if (sealed) {
          // The agent's tree could not be put in order: not gradeable, never resolved.
          sealed_failure = "the patched tree could not be sealed: " + verdict.error;
        }
      }
    } else {
      log(r.patch_is_none ? "no patch (null): the tests run on the base tree" : "empty patch: the tests run on the base tree");
    }

    // The eval script, from a file as SWE-bench runs /eval.sh, with the time limit.
    if (auto err = box->write_file("/tmp/eval.sh", spec.eval_script)) {
      infra(r, log, "could not write /tmp/eval.sh in the sandbox: " + err->message);
      box->destroy();
      return finish();
    }
    if (!sealed_failure.empty()) {
      r.test_output += ">>>>> " + sealed_failure + "\n";
      box->destroy();
      r.ungradeable_reason = sealed_failure;
      log("graded: ungradeable (" + sealed_failure + "), resolution NO, resolved false");
      r.resolution = "NO";
      r.audit["flagged"] = true;
      return finish();
    }
    sandbox::ExecRequest req;
    // Sealed: bash holds the whole script in memory before it starts, so the code under test
    // cannot rewrite the rest of it (bash reads a script file as it goes).
    if (sealed) req.argv = {"/bin/bash", "-c", "eval \"$(cat /tmp/eval.sh)\""};
    else req.argv = {"/bin/bash", "/tmp/eval.sh"};
    req.cwd = "/testbed";
    sandbox::ExecResult run;
    if (!run_eval_script(*box, req, r, log, options, run)) return finish();
    // Nothing was in the test output before the script (a failed apply ended the evaluation).
    if (sealed && run.reason == sandbox::StopReason::exited && run.exit_code == kSealedSetupFailedStatus &&
        r.test_output.find(kSealedSetupFailed) != std::string::npos) {
      r.audit["test_patch_applied"] = false;
      infra(r, log, "the test patch (or the reset of the test files before it) did not apply to the sealed tree");
      box->destroy();
      return finish();
    }
    if (sealed) r.audit["test_patch_applied"] = true;

    // The JUnit report, from the sandbox's /tmp (outside the work tree).
    if (spec.junit) {
      auto junit = box->read_file(state + "/junit.xml");
      if (std::holds_alternative<std::string>(junit)) junit_xml = std::get<std::string>(junit);
      else log("no JUnit report at " + state + "/junit.xml: " + std::get<sandbox::FileError>(junit).message);
    }

    // The test command's own time, left by the script in the sandbox's /tmp.
    if (auto timing = box->read_file(kTestTimeFile); std::holds_alternative<std::string>(timing)) {
      std::istringstream in(std::get<std::string>(timing));
      double t0 = 0, t1 = 0;
      int status = 0;
      if (in >> t0 >> t1 && t1 >= t0) r.timing.test_s = t1 - t0;
      if (in >> status) script_test_status = status;
    }
    t = Clock::now();
    box->destroy();
    r.timing.sandbox_s += seconds_since(t);
  } catch (const std::exception& e) {
    infra(r, log, std::string("sandbox: ") + e.what());
    return finish();
  }

  // Grade the log as SWE-bench does.
  std::optional<Grade> stdout_grade = grade_output(instance, spec.log_parser, options, r, log);
  if (!stdout_grade) return finish();
  Grade& grade = *stdout_grade;
  // The JUnit report: compared with stdout in both modes; in sealed mode, the outcomes come from it.
  nlohmann::json junit_audit = {{"asked", spec.junit}};
  if (!spec.junit) junit_audit["why_not"] = spec.junit_why_not.empty() ? "the log parser " + spec.log_parser + " does not read pytest" : spec.junit_why_not;
  if (!is_pytest_parser(spec.log_parser) && spec.junit) junit_audit["note"] = "the log parser is not pytest's";
  std::optional<Grade> junit_grade;
  if (spec.junit && junit_xml) {
    StatusMap report = read_junit_report(*junit_xml);
    junit_audit["cases"] = report.size();
    std::vector<std::string> listed = instance.FAIL_TO_PASS;
    listed.insert(listed.end(), instance.PASS_TO_PASS.begin(), instance.PASS_TO_PASS.end());
    GradingOptions gopts = grading_options(instance, options);
    Grade g;
    g.status_map = junit_status_of(report, listed);
    // Sealed: the status the script recorded, not stdout's line (the code under test can print one first).
    g.test_exit_code = sealed ? script_test_status : grade.test_exit_code;
    g.gradeable = true;
    // As SWE-bench's exit-code check: a failing exit with nothing failing means the report does not describe the run.
    bool any_failure = false;
    for (const auto& [id, st] : report) any_failure |= st == TestStatus::failed || st == TestStatus::error;
    if (report.empty()) {
      g.gradeable = false;
      g.ungradeable_reason = "the JUnit report lists no test";
    } else if (g.test_exit_code && *g.test_exit_code != 0 && !any_failure && !options.v4_1_compat) {
      g.gradeable = false;
      g.ungradeable_reason = "the test command exited with " + std::to_string(*g.test_exit_code) +
                             " but the JUnit report has no failure or error";
    }
    if (g.gradeable) {
      g.tests_status = tests_report(g.status_map, TestLists{instance.FAIL_TO_PASS, instance.PASS_TO_PASS, {}, {}}, gopts);
      g.resolution = resolution_status(g.tests_status);
      g.resolved = g.resolution == Resolution::full;
    }
    junit_grade = g;
    if (grade.gradeable && g.gradeable) {
      nlohmann::json d = disagreements(instance, tests_status_json(grade.tests_status), tests_status_json(g.tests_status));
      if (!d.empty()) {
        r.audit["disagreements"] = d;
        log("stdout and the JUnit report disagree on " + std::to_string(d.size()) + " listed test(s)");
      }
    } else if (grade.gradeable != g.gradeable) {
      r.audit["disagreements"] = nlohmann::json::array({{{"stdout", grade.gradeable ? "gradeable" : grade.ungradeable_reason},
                                                        {"junit", g.gradeable ? "gradeable" : g.ungradeable_reason}}});
    }
  } else if (spec.junit) {
    junit_audit["missing"] = true;
  }
  junit_audit["used"] = sealed && junit_grade.has_value();
  r.audit["junit"] = junit_audit;
  if (sealed && spec.junit) {
    if (!junit_grade) {
      grade.gradeable = false;
      grade.ungradeable_reason = "the JUnit report the test command was asked to write is missing";
    } else if (grade.gradeable) {
      // stdout's own checks (markers, error markers, timeouts) passed; outcomes from the report.
      grade.gradeable = junit_grade->gradeable;
      grade.ungradeable_reason = junit_grade->ungradeable_reason;
      grade.status_map = junit_grade->status_map;
      grade.tests_status = junit_grade->tests_status;
      grade.resolution = junit_grade->resolution;
      grade.resolved = junit_grade->resolved;
    }
    if (!grade.gradeable) {
      grade.tests_status = TestsStatus{};
      grade.resolution = Resolution::no;
      grade.resolved = false;
    }
  }
  record_grade(r, grade, options, log);
  auto nonempty = [&](const char* key) { return r.audit.contains(key) && !r.audit[key].empty(); };
  r.audit["flagged"] = nonempty("stripped") || nonempty("would_strip") || nonempty("disagreements") ||
                       r.audit.value("git_dir_changed", false);
  return finish();
}

}  // namespace swebox::tasks
