// `swebox validate`: the release gate of a benchmark (tasks/validation.h). Every instance whose
// environment can run here is evaluated twice, with its gold patch and with no patch, as `swebox eval`
// evaluates; the instances where gold resolves and no FAIL_TO_PASS test passes without a fix are
// written out as a validated suite, the others listed with the reason.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "runner/command_line.h"
#include "sandbox/sandbox.h"
#include "tasks/environment.h"
#include "tasks/environment_report.h"
#include "tasks/evaluation.h"
#include "tasks/reports.h"
#include "tasks/suite.h"
#include "tasks/validation.h"
#include "tasks/workspace_cache.h"
#include "trajectories/writer.h"

using swebox::runner::print_error;

namespace fs = std::filesystem;
using namespace swebox::tasks;

namespace {

struct Args {
  std::string suite, repos, out = "validation", instances, cache, table = EnvironmentTable::default_path();
  int jobs = 1;
  double timeout = 1800;
  bool force = false;
};

}  // namespace

int cmd_validate(int argc, char** argv) {
  using namespace swebox::runner;
  Args a;
  CLI::App app{"", "swebox validate"};
  describe_command(app,
                   "Evaluates every instance with its gold patch and with an empty patch, as `swebox eval` does, and\n"
                   "keeps the instances fit to benchmark with: gold resolves them and, without a fix, none of their\n"
                   "FAIL_TO_PASS tests passes. Instances whose repository/version the environment table does not\n"
                   "support here, has no entry for, or lacks Debian packages for are not run. Writes\n"
                   "OUT/validated.jsonl (the suite's records of the validated instances), OUT/validation.json (every\n"
                   "instance's verdict, reason and reports) and the evaluations as `swebox eval --out OUT` lays them\n"
                   "out (OUT/gold/gold/<id>/, OUT/empty/empty/<id>/; a rerun reuses them unless --force).\n"
                   "Exit status: 0 every instance validated; 1 it could not start (suite, table, sandbox, an\n"
                   "--instances id the suite lacks); 2 usage; 3 some did not validate (the table says why; a bad\n"
                   "suite record counts too).",
                   {"swebox validate --suite verified.jsonl --repos /work/repos --out validation -j 2",
                    "swebox validate --suite verified.jsonl --repos /work/repos --instances @ids.txt --force"});
  app.add_option("--suite", a.suite, "instances (JSONL or JSON)")->type_name("FILE")->required();
  app.add_option("--repos", a.repos, "git repositories as DIR/<owner>__<name>")->type_name("DIR")->required();
  app.add_option("--out", a.out, "where the results and the evaluations go")->type_name("DIR")->capture_default_str();
  app.add_option("-j,--jobs", a.jobs, "evaluations at once")->check(whole_number_at_least(1))->capture_default_str();
  app.add_option("--instances", a.instances, "only these ids (comma/space separated, or @FILE)")->type_name("IDS");
  app.add_option("--cache", a.cache, "base tree cache (default $SWEBOX_CACHE or ~/.cache/swebox/trees)")->type_name("DIR");
  app.add_option("--eval-timeout", a.timeout, "eval script time limit, seconds")->check(number_above_zero())->capture_default_str();
  add_deprecated_option(app, "--timeout", "--eval-timeout", &a.timeout)->check(number_above_zero());
  app.add_option("--environments", a.table, "environment table")->type_name("FILE")->capture_default_str();
  add_deprecated_option(app, "--table", "--environments", &a.table);
  app.add_flag("--force", a.force, "evaluate again instances that already have reports in OUT");
  if (auto status = parse_command_line(app, argc, argv)) return *status;
  if (a.cache.empty()) a.cache = default_workspace_cache_dir();
  if (!fs::is_directory(a.repos)) {
    print_error("swebox validate: --repos %s is not a directory\n", a.repos.c_str());
    return 1;
  }
  EnvironmentTable table;
  try {
    table = EnvironmentTable::load(a.table);
  } catch (const std::exception& e) {
    print_error("swebox validate: %s\n", e.what());
    return 1;
  }
  if (!fs::exists(a.suite)) {
    print_error("swebox validate: suite %s does not exist\n", a.suite.c_str());
    return 1;
  }
  SuiteLoad suite = load_suite(a.suite);
  for (const auto& e : suite.errors)
    print_error("swebox validate: skipped a bad suite record (not validated): %s\n", e.c_str());
  std::vector<Instance> instances = suite.instances;
  if (!a.instances.empty()) {
    std::vector<std::string> unknown;
    instances = filter_instances(instances, parse_instance_ids(a.instances), &unknown);
    for (const auto& id : unknown)
      print_error("swebox validate: unknown instance %s (not in %s)\n", id.c_str(), a.suite.c_str());
    if (!unknown.empty()) return 1;
  }
  if (instances.empty()) {
    print_error("swebox validate: no instance to validate in %s\n", a.suite.c_str());
    return 1;
  }
  std::error_code ec;
  fs::create_directories(a.out, ec);
  if (ec || !fs::is_directory(a.out)) {
    print_error("swebox validate: cannot create --out %s: %s\n", a.out.c_str(), ec.message().c_str());
    return 1;
  }

  // Only what can run here is evaluated; the rest gets its verdict from the table alone.
  std::vector<InstanceEnvironment> environments = assess_environments(instances, table);
  struct Job {
    const Instance* instance;
    const char* kind;  // "gold" or "empty": the run id and the model name, as `swebox eval` names them
  };
  std::vector<Job> jobs;
  size_t runnable = 0;
  for (size_t i = 0; i < instances.size(); ++i) {
    if (environments[i].readiness != EnvironmentReadiness::ready) continue;
    ++runnable;
    for (const char* kind : {"gold", "empty"}) jobs.push_back({&instances[i], kind});
  }
  std::printf("validating %zu instance(s): %zu can run here (gold and empty each), %zu cannot (see the table)\n",
              instances.size(), runnable, instances.size() - runnable);
  std::fflush(stdout);

  EvalOptions opts;
  opts.repos_dir = a.repos;
  opts.cache_dir = a.cache;
  opts.timeout_s = a.timeout;
  opts.environments = &table;
  opts.env_setup_hint = "swebox env setup --suite " + a.suite;
  if (!jobs.empty()) {
    // The sandbox helper is forked from this process: start it before the evaluation threads.
    try {
      swebox::sandbox::start_native_backend();
    } catch (const std::exception& e) {
      print_error("swebox validate: cannot start the sandbox helper: %s\n", e.what());
      return 1;
    }
  }

  std::mutex mu;
  std::map<std::string, std::string> errors;  // "kind/id" -> why no report was written
  std::vector<const Job*> todo;
  for (const auto& j : jobs) {
    std::string dir = instance_report_dir(a.out, j.kind, j.kind, j.instance->instance_id);
    if (!a.force && read_instance_report(dir, j.instance->instance_id)) {
      std::printf("%s (%s): reported before in %s; reused (--force evaluates again)\n",
                  j.instance->instance_id.c_str(), j.kind, dir.c_str());
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
      const Instance& inst = *job->instance;
      std::string dir = instance_report_dir(a.out, job->kind, job->kind, inst.instance_id);
      std::string kind = job->kind;
      Prediction p{inst.instance_id, kind, kind == "gold" ? inst.patch : std::string()};
      std::string line;
      try {
        EvalResult r = evaluate_instance(inst, p, opts);
        write_instance_report(dir, r);
        char b[64];
        std::snprintf(b, sizeof b, " (%.1fs)", r.timing.total_s);
        line = r.infra_failure ? "INFRA FAILURE: " + r.infra_failure_reason
               : r.resolved    ? std::string("resolved")
               : r.patch_exists && !r.patch_applied ? std::string("unresolved: patch apply failed")
               : r.gradeable || r.ungradeable_reason.empty() ? std::string("unresolved")
                                                             : "unresolved: " + r.ungradeable_reason;
        line += b;
      } catch (const std::exception& e) {
        line = std::string("ERROR (no report written): ") + e.what();
        std::lock_guard lock(mu);
        errors[kind + "/" + inst.instance_id] = e.what();
      }
      std::lock_guard lock(mu);
      std::printf("[%zu/%zu] %s %s: %s\n", ++done, todo.size(), inst.instance_id.c_str(), kind.c_str(), line.c_str());
      std::fflush(stdout);
    }
  };
  std::vector<std::thread> threads;
  for (int i = 0; i < std::min<int>(a.jobs, static_cast<int>(std::max<size_t>(todo.size(), 1))); ++i)
    threads.emplace_back(worker);
  for (auto& t : threads) t.join();

  // Verdicts, from the reports on disk (so reused ones count too).
  std::vector<InstanceValidation> results;
  for (size_t i = 0; i < instances.size(); ++i) {
    const Instance& inst = instances[i];
    if (environments[i].readiness != EnvironmentReadiness::ready) {
      results.push_back(validation_without_runs(environments[i]));
      continue;
    }
    auto run_of = [&](const std::string& kind) {
      ValidationRun run;
      run.report = read_instance_report(instance_report_dir(a.out, kind, kind, inst.instance_id), inst.instance_id);
      if (auto it = errors.find(kind + "/" + inst.instance_id); it != errors.end()) run.error = it->second;
      return run;
    };
    results.push_back(judge_validation(inst, run_of("gold"), run_of("empty")));
  }

  std::string validated_lines;
  for (size_t i = 0; i < instances.size(); ++i)
    if (results[i].verdict == ValidationVerdict::validated)
      validated_lines += instances[i].raw.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
  nlohmann::json summary = validation_summary(results, a.suite, a.table);
  if (!suite.errors.empty()) summary["suite_errors"] = suite.errors;
  std::string validated_path = (fs::path(a.out) / "validated.jsonl").string();
  std::string summary_path = (fs::path(a.out) / "validation.json").string();
  try {
    swebox::traj::write_file_atomically(validated_path, validated_lines);
    swebox::traj::write_file_atomically(summary_path, summary.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n");
  } catch (const std::exception& e) {
    print_error("swebox validate: cannot write the results into %s: %s\n", a.out.c_str(), e.what());
    return 1;
  }

  std::printf("\n%s\n", validation_table_text(results).c_str());
  size_t validated = summary["validated_instances"].get<size_t>();
  std::printf("%zu of %zu instance(s) validated", validated, results.size());
  for (const auto& [verdict, n] : summary["verdicts"].items())
    if (verdict != "validated" && n.get<int>() > 0) std::printf(", %d %s", n.get<int>(), verdict.c_str());
  if (!suite.errors.empty()) std::printf(", %zu bad suite record(s) skipped", suite.errors.size());
  std::printf("\nvalidated suite: %s\nverdicts: %s\n", validated_path.c_str(), summary_path.c_str());
  return validated == results.size() && suite.errors.empty() ? 0 : 3;
}
