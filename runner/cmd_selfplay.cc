// `swebox selfplay`: self-play bug injection and repair (SSR, docs/formats.md §6). An injector makes
// candidate bugs in a repository; each becomes an artifact (tasks/bug_artifact.h) whose seven
// consistency checks run in the sandbox (tasks/bug_validation.h); a valid one becomes a SWE-bench
// instance (tasks/bug_instance.h) that a group of solver attempts tries to repair, judged as `swebox
// eval --grading sealed` judges; SSR's rewards (tasks/ssr_rewards.h) for both roles.
//
// OUT/repos/<owner>__<name>   a bare clone of --repo, holding the buggy commits (refs/selfplay/*)
// OUT/artifacts/<bug>/        the artifact's five files and artifact.json (where, checks, verdict)
// OUT/instances.jsonl         the valid bugs as SWE-bench instances (swebox eval --repos OUT/repos)
// OUT/rewards.jsonl           per candidate: validity, solver attempts, solve rate, both rewards
// OUT/summary.json            candidates, valid, rejections by reason, bugs per strategy, test runs
#include <atomic>
#include <chrono>
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
#include "tasks/bug_artifact.h"
#include "tasks/bug_instance.h"
#include "tasks/bug_test_run.h"
#include "tasks/bug_validation.h"
#include "tasks/environment.h"
#include "tasks/evaluation.h"
#include "tasks/procedural_bugs.h"
#include "tasks/repository.h"
#include "tasks/ssr_rewards.h"
#include "tasks/workspace_cache.h"
#include "tools/template.h"

namespace fs = std::filesystem;
using namespace swebox::tasks;

namespace {

struct Args {
  std::string repo, out, injector = "procedural", solver = "oracle", cache, table = EnvironmentTable::default_path();
  std::string strategies;
  int bugs = 10, group = 8, jobs = 1, max_candidates = 0;
  unsigned seed = 0;
  double alpha = 0.8, script_timeout = 90;
  BugValidationOptions checks;
};

// One candidate's outcome, for rewards.jsonl and summary.json.
struct Outcome {
  std::string bug_id, strategy, description;
  bool done = false, valid = false, infra = false;
  std::string rejection, reason;
  std::vector<bool> solved;
  double injector_reward = -1;
  nlohmann::json instance;  // the record, when valid
  int test_runs = 0, cached_runs = 0;
};

void write_json(const fs::path& path, const nlohmann::json& j) {
  std::ofstream out(path);
  out << j.dump(2) << "\n";
  if (!out.flush()) throw std::runtime_error("could not write " + path.string());
}

// "selfplay/<dir name>", the name kept to [A-Za-z0-9._-].
std::string repo_name_for(const std::string& dir) {
  std::string base = fs::absolute(dir).lexically_normal().filename().string();
  if (base.empty()) base = fs::absolute(dir).lexically_normal().parent_path().filename().string();
  std::string clean;
  for (char c : base) clean += (std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-') ? c : '-';
  if (clean.empty() || clean[0] == '.') clean = "repo" + clean;
  return "selfplay/" + clean;
}

std::string head_commit(const std::string& path) {
  init_libgit2();
  GitRepository repo = open_repository(path);
  git_oid oid;
  check_git(git_reference_name_to_id(&oid, repo.get(), "HEAD"), "HEAD of " + path);
  return oid_hex(oid);
}

void clone_bare(const std::string& from, const std::string& to) {
  git_clone_options opts = GIT_CLONE_OPTIONS_INIT;
  opts.bare = 1;
  git_repository* r = nullptr;
  std::string url = fs::absolute(from).lexically_normal().string();
  check_git(git_clone(&r, url.c_str(), to.c_str(), &opts), "cloning " + from + " into " + to);
  git_repository_free(r);
}

std::string read_template(const std::string& rel) {
  std::string path = swebox::tools::default_template_dir() + "/" + rel;
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot read the template " + path);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace

int cmd_selfplay(int argc, char** argv) {
  using namespace swebox::runner;
  Args a;
  CLI::App app{"", "swebox selfplay"};
  describe_command(
      app,
      "Self-play bug injection and repair (SSR). An injector makes candidate bugs in the git repository\n"
      "--repo (its HEAD is the original); each becomes a bug artifact (test script, test files, parser,\n"
      "bug diff, weakening diff) checked by SSR's seven consistency checks in the sandbox; a valid one\n"
      "becomes a SWE-bench instance (gold = the bug reversed, test_patch = the weakening reversed) that\n"
      "--group solver attempts try to repair, judged with sealed grading; solver and injector get SSR's\n"
      "rewards. Writes OUT/artifacts/<bug>/ (files + artifact.json), OUT/instances.jsonl (for `swebox\n"
      "eval --suite OUT/instances.jsonl --repos OUT/repos`), OUT/rewards.jsonl and OUT/summary.json.\n"
      "Injectors: procedural (Python-AST mutations in SWE-smith's style and removal of a function's\n"
      "logic) and history (a past commit reverted). Solver: oracle (the gold patch) only, for now.\n"
      "The repository's tests must run with Debian's python3 and pytest (PYTHONPATH=/testbed).\n"
      "Exit status: 0 done; 1 could not start or write; 2 usage.",
      {"swebox selfplay --repo toolz-repo --out sp --injector procedural --solver oracle --bugs 10 -j 2",
       "swebox selfplay --repo toolz-repo --out sp-history --injector history --group 8"});
  app.add_option("--repo", a.repo, "the git repository bugs are injected into (its HEAD)")->type_name("DIR")->required();
  app.add_option("--out", a.out, "output directory (must not exist or be empty)")->type_name("DIR")->required();
  app.add_option("--injector", a.injector, "procedural | history")
      ->check(CLI::IsMember({"procedural", "history"}))
      ->capture_default_str();
  app.add_option("--solver", a.solver, "oracle (the gold patch); a POLICY solver is not implemented yet")
      ->capture_default_str();
  app.add_option("--bugs", a.bugs, "stop after this many valid bugs")->check(whole_number_at_least(1))->capture_default_str();
  app.add_option("--max-candidates", a.max_candidates, "candidates to try at most (default 10 x --bugs)")
      ->check(whole_number_at_least(1));
  app.add_option("--group", a.group, "solver attempts per bug (SSR's G)")->check(whole_number_at_least(1))->capture_default_str();
  app.add_option("--alpha", a.alpha, "the injector's penalty for a solve rate of 0 or 1")->check(fraction())->capture_default_str();
  app.add_option("-j,--jobs", a.jobs, "candidates at once")->check(whole_number_at_least(1))->capture_default_str();
  app.add_option("--seed", a.seed, "the procedural injector's seed")->capture_default_str();
  app.add_option("--strategies", a.strategies, "procedural strategies to use (comma separated; default all)")
      ->type_name("LIST");
  app.add_option("--min-passing-tests", a.checks.min_passing_tests, "check 3: tests that pass on the original, at least")
      ->check(whole_number_at_least(0))->capture_default_str();
  app.add_option("--min-changed-files", a.checks.min_changed_files, "check 4: files the bug changes, at least")
      ->check(whole_number_at_least(1))->capture_default_str();
  app.add_option("--min-failing-tests", a.checks.min_failing_tests, "check 5: passing tests the bug breaks, at least")
      ->check(whole_number_at_least(1))->capture_default_str();
  app.add_option("--script-timeout", a.script_timeout, "the test script's cap, seconds")
      ->check(number_above_zero())->capture_default_str();
  app.add_option("--cache", a.cache, "base tree cache (default $SWEBOX_CACHE or ~/.cache/swebox/trees)")->type_name("DIR");
  app.add_option("--environments", a.table, "environment table")->type_name("FILE")->capture_default_str();
  if (auto status = parse_command_line(app, argc, argv)) return *status;
  if (a.solver != "oracle") {
    std::fprintf(stderr, "swebox selfplay: --solver %s: only the oracle solver is implemented so far (a policy solver "
                         "needs the episode loop's task interface, not built yet); use --solver oracle\n",
                 a.solver.c_str());
    return 2;
  }
  if (a.max_candidates == 0) a.max_candidates = 10 * a.bugs;
  if (a.cache.empty()) a.cache = default_workspace_cache_dir();
  std::vector<std::string> strategies;
  for (std::string s; const char c : a.strategies + ",") {
    if (c == ',') {
      if (!s.empty()) {
        auto known = procedural_strategies();
        if (std::find(known.begin(), known.end(), s) == known.end()) {
          std::fprintf(stderr, "swebox selfplay: --strategies: unknown strategy '%s'\n", s.c_str());
          return 2;
        }
        strategies.push_back(s);
      }
      s.clear();
    } else {
      s += c;
    }
  }

  // Inputs and the output directory: nothing already there is overwritten.
  std::string original;
  try {
    original = head_commit(a.repo);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "swebox selfplay: --repo %s: %s\n", a.repo.c_str(), e.what());
    return 1;
  }
  std::error_code ec;
  if (fs::exists(a.out) && !(fs::is_directory(a.out) && fs::is_empty(a.out, ec))) {
    std::fprintf(stderr, "swebox selfplay: --out %s exists and is not empty; give a new directory\n", a.out.c_str());
    return 1;
  }
  EnvironmentTable table;
  std::string statement_template;
  try {
    table = EnvironmentTable::load(a.table);
    statement_template = read_template("selfplay/repair.txt");
  } catch (const std::exception& e) {
    std::fprintf(stderr, "swebox selfplay: %s\n", e.what());
    return 1;
  }
  const std::string repo_name = repo_name_for(a.repo);
  const std::string repos_dir = (fs::path(a.out) / "repos").string();
  const std::string repo_path = repository_path(repos_dir, repo_name);
  const fs::path artifacts_dir = fs::path(a.out) / "artifacts";
  Environment env = table.resolve(repo_name, "selfplay");
  try {
    fs::create_directories(repos_dir);
    fs::create_directories(artifacts_dir);
    clone_bare(a.repo, repo_path);
    swebox::sandbox::start_native_backend();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "swebox selfplay: %s\n", e.what());
    return 1;
  }
  auto t0 = std::chrono::steady_clock::now();

  // The runner over the original; its test files; the original's run (shared by every candidate).
  std::unique_ptr<BugTestRunner> runner;
  std::vector<std::string> test_files;
  try {
    BugTestRunner::Options ro;
    ro.repos_dir = repos_dir;
    ro.cache_dir = a.cache;
    ro.repo = repo_name;
    ro.original_commit = original;
    ro.script_timeout_s = a.script_timeout;
    ro.environment = env;
    runner = std::make_unique<BugTestRunner>(ro);
    test_files = pytest_test_files(runner->original_tree());
    if (test_files.empty()) throw std::runtime_error("no pytest test files (test_*.py under a tests/ folder) in " + a.repo);
    BugTestRun first = runner->run(pytest_artifact(test_files, ""), {});
    if (first.infra_failure) throw std::runtime_error("the original's tests could not run: " + first.infra_reason);
    if (!first.results)
      throw std::runtime_error("the original's tests give no results (" + first.parse_error + "); the output ends:\n" +
                               first.output.substr(first.output.size() > 1500 ? first.output.size() - 1500 : 0));
    std::printf("original %s: %zu of %zu tests pass (%.1f s)\n", original.substr(0, 12).c_str(), first.passed_count(),
                first.results->size(), first.seconds);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "swebox selfplay: %s\n", e.what());
    return 1;
  }

  std::vector<BugCandidate> candidates;
  try {
    candidates = a.injector == "history" ? history_candidates(a.repo, original, a.max_candidates)
                                         : procedural_candidates(*runner, a.seed, a.max_candidates, strategies);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "swebox selfplay: the %s injector: %s\n", a.injector.c_str(), e.what());
    return 1;
  }
  std::printf("%zu %s candidates\n", candidates.size(), a.injector.c_str());

  EvalOptions eval;
  eval.repos_dir = repos_dir;
  eval.cache_dir = a.cache;
  eval.timeout_s = a.script_timeout + 60;
  eval.environments = &table;
  eval.grading = GradingMode::sealed;

  std::vector<Outcome> outcomes(candidates.size());
  std::atomic<size_t> next{0};
  std::atomic<int> valid{0};
  std::mutex git_mutex, print_mutex;
  auto work = [&]() {
    for (;;) {
      if (valid.load() >= a.bugs) return;
      size_t i = next++;
      if (i >= candidates.size()) return;
      const BugCandidate& c = candidates[i];
      Outcome& o = outcomes[i];
      char id[64];
      std::snprintf(id, sizeof id, "ssr-%04zu", i);
      o.bug_id = id;
      o.strategy = c.strategy;
      o.description = c.description;
      nlohmann::json record = {{"bug_id", o.bug_id}, {"strategy", c.strategy}, {"where", c.description},
                               {"repo", repo_name},  {"original_commit", original}, {"injector", a.injector}};
      try {
        BugArtifact artifact = pytest_artifact(test_files, c.bug_diff);
        // The weakening: the test functions the bug breaks, removed.
        BugTestRun original_run = runner->run(artifact, {});
        BugTestRun buggy = runner->run(artifact, {true, false, {}});
        std::vector<std::string> broken;
        if (buggy.results && original_run.results)
          for (const auto& [tid, ok] : *original_run.results)
            if (ok && !buggy.passed(tid)) broken.push_back(tid);
        std::vector<std::string> unmatched;
        if (!broken.empty()) artifact.weaken_diff = derive_weakening(*runner, broken, &unmatched);
        if (!unmatched.empty()) record["weakening_unmatched"] = unmatched;
        BugValidation v = validate_bug_artifact(artifact, *runner, a.checks, [&](const std::string& path) {
          std::error_code e;
          return fs::is_regular_file(fs::path(runner->original_tree()) / path, e) &&
                 !fs::is_symlink(fs::path(runner->original_tree()) / path, e);
        });
        o.test_runs = v.test_runs;
        o.cached_runs = v.cached_runs;
        o.valid = v.valid;
        o.infra = v.infra_failure;
        if (v.rejection) o.rejection = to_string(*v.rejection);
        o.reason = v.infra_failure ? v.infra_reason : v.reason;
        record["validation"] = to_json(v);
        const fs::path dir = artifacts_dir / o.bug_id;
        write_bug_artifact(dir.string(), artifact);
        if (v.valid && valid.fetch_add(1) < a.bugs) {
          BugInstanceSpec spec;
          spec.repository_path = repo_path;
          spec.repo = repo_name;
          spec.original_commit = original;
          spec.bug_id = o.bug_id;
          spec.problem_template = statement_template;
          Instance inst;
          {
            std::lock_guard<std::mutex> lock(git_mutex);
            inst = make_bug_instance(spec, artifact, v);
          }
          o.instance = instance_record(inst);
          record["instance_id"] = inst.instance_id;
          // The solver's group: each attempt judged as `swebox eval --grading sealed` judges.
          nlohmann::json attempts = nlohmann::json::array();
          for (int g = 0; g < a.group; ++g) {
            EvalResult r = evaluate_instance(inst, Prediction{inst.instance_id, "oracle", inst.patch}, eval);
            if (r.infra_failure) throw std::runtime_error("solver attempt " + std::to_string(g) + ": " + r.infra_failure_reason);
            o.solved.push_back(r.resolved);
            attempts.push_back({{"solver", a.solver}, {"resolved", r.resolved}, {"reward", solver_reward(r.resolved)}});
          }
          double s = solve_rate(o.solved);
          o.injector_reward = injector_reward(true, s, a.alpha);
          record["solver_attempts"] = attempts;
          record["solve_rate"] = s;
        } else if (v.valid) {
          o.valid = false;  // past --bugs: not counted, not an instance
          o.reason = "not used: --bugs reached";
          record["unused"] = true;
        }
        if (!o.infra) record["injector_reward"] = o.valid ? o.injector_reward : injector_reward(false, 0, a.alpha);
        write_json(dir / kArtifactRecordFile, record);
        o.done = !record.contains("unused");
      } catch (const std::exception& e) {
        o.infra = true;
        o.reason = e.what();
        o.done = true;
      }
      std::lock_guard<std::mutex> lock(print_mutex);
      std::printf("%s %-16s %-8s %s%s\n", o.bug_id.c_str(), o.strategy.c_str(),
                  o.valid ? "valid" : (o.infra ? "infra" : (o.done ? "rejected" : "unused")),
                  o.valid ? ("solve rate " + std::to_string(solve_rate(o.solved)).substr(0, 4)).c_str() : o.rejection.c_str(),
                  o.valid || o.reason.empty() ? "" : (": " + o.reason.substr(0, 160)).c_str());
      std::fflush(stdout);
    }
  };
  std::vector<std::thread> threads;
  for (int j = 0; j < a.jobs; ++j) threads.emplace_back(work);
  for (auto& t : threads) t.join();
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

  // The outputs.
  nlohmann::json rejections = nlohmann::json::object(), per_strategy = nlohmann::json::object();
  int n_candidates = 0, n_valid = 0, n_infra = 0;
  try {
    std::ofstream instances(fs::path(a.out) / "instances.jsonl"), rewards(fs::path(a.out) / "rewards.jsonl");
    for (const auto& o : outcomes) {
      if (!o.done) continue;
      ++n_candidates;
      auto& st = per_strategy[o.strategy];
      if (st.is_null()) st = {{"candidates", 0}, {"valid", 0}};
      st["candidates"] = st["candidates"].get<int>() + 1;
      nlohmann::json line = {{"bug_id", o.bug_id}, {"strategy", o.strategy}, {"valid", o.valid}};
      if (o.infra) {
        ++n_infra;
        line["infra_failure"] = o.reason;
      } else if (o.valid) {
        ++n_valid;
        st["valid"] = st["valid"].get<int>() + 1;
        instances << o.instance.dump() << "\n";
        nlohmann::json solver = nlohmann::json::array();
        for (bool s : o.solved) solver.push_back(solver_reward(s));
        line["instance_id"] = o.instance["instance_id"];
        line["solver_rewards"] = solver;
        line["solve_rate"] = solve_rate(o.solved);
        line["injector_reward"] = o.injector_reward;
      } else {
        rejections[o.rejection] = rejections.value(o.rejection, 0) + 1;
        line["rejection"] = o.rejection;
        line["injector_reward"] = injector_reward(false, 0, a.alpha);
      }
      rewards << line.dump() << "\n";
    }
    if (!instances.flush() || !rewards.flush()) throw std::runtime_error("could not write instances.jsonl / rewards.jsonl");
    nlohmann::json summary = {{"repo", repo_name},
                              {"original_commit", original},
                              {"injector", a.injector},
                              {"solver", a.solver},
                              {"group", a.group},
                              {"alpha", a.alpha},
                              {"thresholds",
                               {{"min_passing_tests", a.checks.min_passing_tests},
                                {"min_changed_files", a.checks.min_changed_files},
                                {"min_failing_tests", a.checks.min_failing_tests},
                                {"script_timeout_s", a.script_timeout}}},
                              {"candidates", n_candidates},
                              {"valid", n_valid},
                              {"infra_failures", n_infra},
                              {"rejections", rejections},
                              {"strategies", per_strategy},
                              {"test_runs", runner->runs_done()},
                              {"cached_runs", runner->runs_cached()},
                              {"seconds", seconds}};
    write_json(fs::path(a.out) / "summary.json", summary);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "swebox selfplay: %s\n", e.what());
    return 1;
  }
  std::printf("%d candidates, %d valid, %d infra failures in %.1f s; %s\n", n_candidates, n_valid, n_infra, seconds,
              (fs::path(a.out) / "summary.json").string().c_str());
  return 0;
}
