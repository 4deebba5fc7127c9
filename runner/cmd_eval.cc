// `swebox eval`: SWE-bench's run_evaluation on this host. Each instance is evaluated in a fresh
// sandbox over its cached base tree; reports are laid out as SWE-bench lays them out.
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "runner/command_line.h"
#include "sandbox/sandbox.h"
#include "sandbox/text_encoding.h"
#include "tasks/environment.h"
#include "tasks/evaluation.h"
#include "tasks/instance_image.h"
#include "tasks/predictions.h"
#include "tasks/preflight.h"
#include "tasks/reports.h"
#include "tasks/suite.h"
#include "tasks/workspace_cache.h"

using swebox::runner::print_error;

namespace fs = std::filesystem;
using namespace swebox::tasks;

namespace {

struct Args {
  std::string suite, predictions, repos, out, instances, run_id, cache, table = EnvironmentTable::default_path();
  int jobs = 1;
  double timeout = 1800;
  bool force = false;
  bool v41 = false;
  std::string grading = "swebench";
  std::string backend = "native";
  std::string image_template;  // --image-template (tasks/instance_image.h)
};

std::string counts(const nlohmann::json& group) {
  if (!group.is_object()) return "-";
  size_t ok = group.value("success", nlohmann::json::array()).size();
  size_t bad = group.value("failure", nlohmann::json::array()).size();
  return std::to_string(ok) + "/" + std::to_string(ok + bad);
}

}  // namespace

int cmd_eval(int argc, char** argv) {
  using namespace swebox::runner;
  Args a;
  CLI::App app{"", "swebox eval"};
  describe_command(app,
                   "Evaluates predictions as SWE-bench does: each instance in a fresh sandbox (no network) over its\n"
                   "base commit, the patch applied, the eval script run, the log graded. Reports go to\n"
                   "OUT/<run_id>/<model>/<instance>/report.json ..., the summary to OUT/<model>.<run_id>.json.\n"
                   "Exit status: 0 every instance evaluated; 1 it could not start (a prediction or --instances id\n"
                   "the suite lacks, an unreadable file); 2 usage; 3 some instances could not be evaluated (infra\n"
                   "failure, no report) or records were skipped.",
                   {"swebox eval --suite suite.jsonl --predictions gold --repos /work/repos --out evals -j 4",
                    "swebox eval --suite suite.jsonl --predictions runs/qwen/predictions.jsonl --repos /work/repos --out evals",
                    "swebox eval --suite suite.jsonl --predictions preds.jsonl --repos /work/repos --out evals "
                    "--instances django__django-11099 --grading sealed --force"});
  app.add_option("--suite", a.suite, "instances (JSONL or JSON)")->type_name("FILE")->required();
  app.add_option("--predictions", a.predictions,
                 "SWE-bench predictions (JSONL or JSON: instance_id, model_name_or_path, model_patch), or 'gold' "
                 "(each instance's own patch), or 'empty' (no change)")
      ->required()->type_name("FILE|gold|empty");
  app.add_option("--repos", a.repos, "git repositories as DIR/<owner>__<name> (not with --backend docker)")->type_name("DIR");
  app.add_option("--out", a.out, "where reports and the summary go")->type_name("DIR")->required();
  app.add_option("-j,--jobs", a.jobs, "evaluations at once")->check(whole_number_at_least(1))->capture_default_str();
  app.add_option("--instances", a.instances, "only these ids (comma/space separated, or @FILE)")->type_name("IDS");
  app.add_option("--run-id", a.run_id, "default: the predictions' name (gold, empty, or the file's stem)")->type_name("ID");
  app.add_option("--eval-timeout", a.timeout, "eval script time limit, seconds")->check(number_above_zero())->capture_default_str();
  add_deprecated_option(app, "--timeout", "--eval-timeout", &a.timeout)->check(number_above_zero());
  app.add_option("--cache", a.cache, "base tree cache (default $SWEBOX_CACHE or ~/.cache/swebox/trees)")->type_name("DIR");
  app.add_flag("--force", a.force, "evaluate again instances that already have a report in this run");
  add_deprecated_flag(app, "--rerun", "--force", &a.force);
  app.add_option("--environments", a.table, "environment table")->type_name("FILE")->capture_default_str();
  add_deprecated_option(app, "--table", "--environments", &a.table);
  app.add_flag("--v4.1", a.v41, "grade with SWE-bench v4.1's rules (SKIPPED neither passes nor fails)");
  add_deprecated_flag(app, "--v41", "--v4.1", &a.v41);
  app.add_option("--grading", a.grading,
                 "swebench: SWE-bench's verdicts exactly, test-infrastructure changes only flagged in each report's "
                 "audit; sealed: such changes put back as at base and flagged, a test patch that does not apply is "
                 "an infra failure, pytest outcomes from a JUnit report (docs/grading-modes.md)")
      ->check(accepted_by([](const std::string& s) { parse_grading_mode(s); }))->type_name("MODE")
      ->capture_default_str();
  app.add_option("--backend", a.backend,
                 "native: a sandbox over the base tree from --repos. docker: each instance in a container of its own "
                 "SWE-bench image (the record's `image`, or --image-template), its eval script as it is; no --repos; "
                 "swebench grading only")
      ->check(accepted_by([](const std::string& s) { swebox::sandbox::parse_backend(s); }))->type_name("B")
      ->capture_default_str();
  app.add_option("--image-template", a.image_template,
                 "the image per instance, e.g. 'sweb.eval.x86_64.{instance_id_lower}:latest' or "
                 "'swebench/sweb.eval.x86_64.{instance_id_1776}:latest'; placeholders {instance_id}, "
                 "{instance_id_lower}, {instance_id_1776} (\"__\" as \"_1776_\"), {arch}; wins over `image`")
      ->check(accepted_by([](const std::string& s) { checked_image_template(s); }))->type_name("TEMPLATE");
  if (auto status = parse_command_line(app, argc, argv)) return *status;
  const GradingMode grading = parse_grading_mode(a.grading);
  const swebox::sandbox::Backend backend = swebox::sandbox::parse_backend(a.backend);

  // Instance images (--backend docker) hold the repository; nothing comes from --repos.
  const bool in_images = backend == swebox::sandbox::Backend::docker;
  if (std::string why = image_mode_problem(in_images, a.image_template, grading == GradingMode::sealed); !why.empty()) {
    print_error("swebox eval: %s\n", why.c_str());
    return 2;
  }
  if (a.repos.empty() && !in_images) {
    print_error("swebox eval: --repos is required (or --backend docker, to evaluate in SWE-bench's instance images)\n");
    return 2;
  }
  if (!a.repos.empty() && !fs::is_directory(a.repos)) {
    print_error("swebox eval: --repos %s is not a directory\n", a.repos.c_str());
    return 2;
  }
  if (a.cache.empty()) a.cache = default_workspace_cache_dir();

  EnvironmentTable table;
  try {
    table = EnvironmentTable::load(a.table);
  } catch (const std::exception& e) {
    print_error("swebox eval: %s\n", e.what());
    return 2;
  }

  // The suite: bad records are reported, the rest run.
  if (!fs::exists(a.suite)) {
    print_error("swebox eval: suite %s does not exist\n", a.suite.c_str());
    return 2;
  }
  SuiteLoad suite = load_suite(a.suite);
  for (const auto& e : suite.errors) print_error("swebox eval: skipped a bad suite record: %s\n", e.c_str());
  std::vector<Instance> instances = suite.instances;
  if (!a.instances.empty()) {
    std::vector<std::string> missing;
    instances = filter_instances(instances, parse_instance_ids(a.instances), &missing);
    if (!missing.empty()) {
      std::string list;
      for (const auto& m : missing) list += (list.empty() ? "" : ", ") + m;
      std::fprintf(
          stderr, "swebox eval: %s\n",
          swebox::sandbox::to_valid_utf8("--instances names ids that are not in " + a.suite + ": " + list).c_str());
      return 1;
    }
  }

  // The predictions.
  std::vector<Prediction> predictions;
  std::vector<std::string> prediction_errors;
  if (a.predictions == "gold" || a.predictions == "empty") {
    for (const auto& inst : instances)
      predictions.push_back({inst.instance_id, a.predictions, a.predictions == "gold" ? inst.patch : std::string()});
    if (a.run_id.empty()) a.run_id = a.predictions;
  } else {
    try {
      predictions = read_predictions(a.predictions, prediction_errors);
    } catch (const std::exception& e) {
      print_error("swebox eval: %s\n", e.what());
      return 2;
    }
    for (const auto& e : prediction_errors) print_error("swebox eval: skipped a bad prediction: %s\n", e.c_str());
    if (a.run_id.empty()) a.run_id = fs::path(a.predictions).stem().string();
  }
  if (a.run_id.empty() || a.run_id.find('/') != std::string::npos || a.run_id == "." || a.run_id == "..") {
    print_error("swebox eval: --run-id '%s' is not a valid folder name\n", a.run_id.c_str());
    return 2;
  }

  std::map<std::string, const Instance*> by_id;
  for (const auto& inst : instances) by_id[inst.instance_id] = &inst;
  std::map<std::string, std::map<std::string, std::optional<std::string>>> per_model;  // model -> id -> patch
  struct Job {
    const Instance* instance;
    Prediction prediction;
  };
  std::vector<Job> jobs;
  std::set<std::string> seen;
  // As SWE-bench: a prediction for an instance the suite does not have is an error (a wrong suite,
  // or ids from another dataset), not something to skip quietly.
  {
    std::set<std::string> in_suite;
    for (const auto& inst : suite.instances) in_suite.insert(inst.instance_id);
    std::vector<std::string> unknown;
    for (const auto& p : predictions)
      if (!in_suite.count(p.instance_id)) unknown.push_back(p.instance_id);
    if (!unknown.empty()) {
      std::string list;
      for (size_t i = 0; i < unknown.size() && i < 10; ++i) list += (i ? ", " : "") + unknown[i];
      if (unknown.size() > 10) list += " and " + std::to_string(unknown.size() - 10) + " more";
      print_error("swebox eval: %zu prediction(s) name instances that are not in %s: %s (check --suite)\n",
                   unknown.size(), a.suite.c_str(), list.c_str());
      return 1;
    }
  }
  for (auto& p : predictions) {
    auto it = by_id.find(p.instance_id);
    if (it == by_id.end()) continue;  // in the suite, not among --instances
    if (!seen.insert(p.instance_id).second) {
      print_error("swebox eval: a second prediction for %s ignored\n", p.instance_id.c_str());
      continue;
    }
    per_model[p.model_name_or_path][p.instance_id] = p.model_patch;
    jobs.push_back({it->second, p});
  }
  if (per_model.empty()) per_model[a.predictions] = {};

  EvalOptions opts;
  opts.repos_dir = a.repos;
  opts.cache_dir = a.cache;
  opts.timeout_s = a.timeout;
  opts.environments = &table;
  opts.env_setup_hint = "swebox env setup --suite " + a.suite;
  opts.v4_1_compat = a.v41;
  opts.grading = grading;
  opts.backend = backend;
  opts.instance_images = in_images;
  opts.image_template = a.image_template;

  // Preflight: the repositories, commits and environments of every instance to evaluate, said at
  // once before anything runs. Unlike `swebox run` (where a missing piece would waste an agent's
  // episode), evaluation goes on as SWE-bench does: those instances become infra failures with the
  // same reasons, the others are evaluated, and the exit status is 3.
  {
    std::vector<Instance> to_check;
    for (const auto& j : jobs) to_check.push_back(*j.instance);
    WorkspaceCache cache(a.repos, a.cache);
    PreflightOptions po;
    po.cache = &cache;
    po.environments = &table;
    po.instance_images = in_images;
    po.image_template = a.image_template;
    std::vector<std::string> problems = preflight_tasks(to_check, po);
    if (!problems.empty()) {
      print_error("swebox eval: preflight: these instances cannot be evaluated here (they will be infra failures):\n");
      for (const auto& p : problems) print_error("  - %s\n", p.c_str());
    }
  }

  // The sandbox helper is forked from this process: start it before the evaluation threads.
  try {
    if (!in_images) swebox::sandbox::start_native_backend();
  } catch (const std::exception& e) {
    print_error("swebox eval: cannot start the sandbox helper: %s\n", e.what());
    return 1;
  }

  // Evaluate, a few at a time; instances already reported in this run are kept unless --force.
  std::mutex mu;
  std::map<std::string, EvalResult> results;
  std::map<std::string, std::string> errors;
  std::vector<const Job*> todo;
  for (const auto& j : jobs) {
    std::string dir = instance_report_dir(a.out, a.run_id, j.prediction.model_name_or_path, j.instance->instance_id);
    if (!a.force && read_instance_report(dir, j.instance->instance_id)) {
      std::printf("%s: already reported in run %s (%s); skipped — use --force to evaluate again\n",
                  j.instance->instance_id.c_str(), a.run_id.c_str(), dir.c_str());
      continue;
    }
    todo.push_back(&j);
  }
  std::fflush(stdout);
  size_t next = 0, done = 0;
  auto worker = [&] {
    for (;;) {
      const Job* job;
      {
        std::lock_guard lock(mu);
        if (next >= todo.size()) return;
        job = todo[next++];
      }
      const std::string& id = job->instance->instance_id;
      std::string dir = instance_report_dir(a.out, a.run_id, job->prediction.model_name_or_path, id);
      std::string line;
      try {
        EvalResult r = evaluate_instance(*job->instance, job->prediction, opts);
        write_instance_report(dir, r);
        char b[64];
        std::snprintf(b, sizeof b, " (%.1fs)", r.timing.total_s);
        line = id + ": " +
               (r.infra_failure ? "INFRA FAILURE: " + r.infra_failure_reason
                : r.resolved    ? std::string("RESOLVED")
                : !r.patch_exists ? std::string("unresolved (empty patch)")
                : !r.patch_applied ? std::string("unresolved: Patch Apply Failed")
                : r.gradeable   ? "unresolved (" + r.resolution + ")"
                                : "unresolved: " + r.ungradeable_reason) +
               b;
        if (r.audit.value("flagged", false)) line += " [flagged: see the audit in report.json]";
        std::lock_guard lock(mu);
        results.emplace(id, std::move(r));
      } catch (const std::exception& e) {
        line = id + ": ERROR (no report written): " + e.what();
        std::lock_guard lock(mu);
        errors[id] = e.what();
      }
      std::lock_guard lock(mu);
      std::printf("[%zu/%zu] %s\n", ++done, todo.size(), line.c_str());
      std::fflush(stdout);
    }
  };
  std::vector<std::thread> threads;
  for (int i = 0; i < std::min<int>(a.jobs, std::max<size_t>(todo.size(), 1)); ++i) threads.emplace_back(worker);
  for (auto& t : threads) t.join();

  // The summary, per model, from the reports on disk (so skipped instances count too).
  std::vector<std::string> ids;
  for (const auto& inst : instances) ids.push_back(inst.instance_id);
  std::printf("\n%-44s %-8s %-9s %-7s %-7s %s\n", "instance", "applied", "resolved", "F2P", "P2P", "note");
  for (const auto& j : jobs) {
    const std::string& id = j.instance->instance_id;
    auto rep = read_instance_report(instance_report_dir(a.out, a.run_id, j.prediction.model_name_or_path, id), id);
    if (!rep) {
      std::printf("%-44s %-8s %-9s %-7s %-7s %s\n", id.c_str(), "-", "-", "-", "-",
                  errors.count(id) ? errors[id].c_str() : "no report");
      continue;
    }
    std::string note = rep->value("infra_failure", false) ? rep->value("infra_failure_reason", std::string())
                       : rep->value("ambiguous_failure", false) ? rep->value("failure_reason", std::string())
                       : !rep->value("patch_exists", false) ? std::string("empty patch")
                       : !rep->value("patch_successfully_applied", false) ? std::string("patch apply failed")
                       : "";
    if (note.size() > 70) {  // cut on a UTF-8 character boundary
      size_t cut = 67;
      while (cut > 0 && (static_cast<unsigned char>(note[cut]) & 0xC0) == 0x80) --cut;
      note = note.substr(0, cut) + "...";
    }
    const auto& st = (*rep)["tests_status"];
    std::printf("%-44s %-8s %-9s %-7s %-7s %s\n", id.c_str(), rep->value("patch_successfully_applied", false) ? "yes" : "no",
                rep->value("resolved", false) ? "YES" : "no", counts(st["FAIL_TO_PASS"]).c_str(),
                counts(st["PASS_TO_PASS"]).c_str(), note.c_str());
  }
  bool incomplete = false;
  for (const auto& [model, preds] : per_model) {
    SwebenchRunReportInput in;
    in.run_id = a.run_id;
    in.model = model;
    in.dataset_ids = ids;
    in.predictions = preds;
    in.out_dir = a.out;
    in.errors = errors;
    in.grading = to_string(grading);
    nlohmann::json summary = swebench_run_report(in);
    if (!suite.errors.empty()) summary["suite_errors"] = suite.errors;
    if (!prediction_errors.empty()) summary["prediction_errors"] = prediction_errors;
    std::string path = write_swebench_run_report(in, summary);
    incomplete = incomplete || summary["infra_failure_instances"].get<int>() > 0 || summary["error_instances"].get<int>() > 0;
    std::printf("\n%s, run %s, %s grading: %d instances, %d submitted, %d completed, %d resolved, %d unresolved, %d empty patch, "
                "%d infra failure, %d ambiguous, %d error, %d flagged%s\nsummary: %s\n",
                model.c_str(), a.run_id.c_str(), to_string(grading), summary["total_instances"].get<int>(),
                summary["submitted_instances"].get<int>(), summary["completed_instances"].get<int>(),
                summary["resolved_instances"].get<int>(), summary["unresolved_instances"].get<int>(),
                summary["empty_patch_instances"].get<int>(), summary["infra_failure_instances"].get<int>(),
                summary["ambiguous_failure_instances"].get<int>(), summary["error_instances"].get<int>(),
                summary["flagged_instances"].get<int>(), suite.errors.empty() ? "" : (", " + std::to_string(suite.errors.size()) + " bad suite record(s)").c_str(),
                path.c_str());
  }
  // 0: every instance evaluated; 3: some could not be (infra failure, no report) or records were
  // skipped — their reasons are above and in the summary.
  return incomplete || !suite.errors.empty() || !prediction_errors.empty() ? 3 : 0;
}
