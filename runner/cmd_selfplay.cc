// `swebox selfplay`: self-play bug injection and repair (SSR, docs/formats.md §6). An injector makes
// candidate bugs in a repository; each becomes an artifact (tasks/bug_artifact.h) whose seven
// consistency checks run in the sandbox (tasks/bug_validation.h); a valid one becomes a SWE-bench
// instance (tasks/bug_instance.h). Then a group of repair episodes per bug: the solver policy, any
// that `swebox run` accepts, works on the buggy weakened repository (the instance's root commit: a
// fresh one-commit history) through the episode loop, prompted with templates/selfplay/repair.txt
// and judged with sealed grading (the original tests put back before they run). The repair episodes
// ARE a `swebox run` of OUT/instances.jsonl (run_job): the SSR repair task is the SWE-bench task
// with another prompt, so it shares that loop, its records, resume and reports. SSR's rewards
// (tasks/ssr_rewards.h) for both roles come from those episodes.
//
// OUT/selfplay.json           the run's identity (--resume refuses another)
// OUT/repos/<owner>__<name>   a bare clone of --repo, holding the buggy commits (refs/selfplay/*)
// OUT/artifacts/<bug>/        the artifact's five files and artifact.json (where, checks, verdict)
// OUT/instances.jsonl         the valid bugs as SWE-bench instances (swebox eval --repos OUT/repos)
// OUT/solver/                 the repair episodes as `swebox run` writes them (trajectories.jsonl with
//                             task_kind "repair", run.json, predictions, summary, evaluation logs)
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
#include "runner/run_identity.h"
#include "runner/run_job.h"
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
#include "trajectories/writer.h"

using swebox::runner::print_error;

namespace fs = std::filesystem;
using namespace swebox::tasks;

namespace {

struct Args {
  std::string repo, out, injector = "procedural", solver = "oracle", cache, table = EnvironmentTable::default_path();
  std::string strategies;
  int bugs = 10, group = 8, jobs = 1, max_candidates = 0;
  unsigned seed = 0;
  double alpha = 0.8, script_timeout = 90;
  long max_turns = 64;
  bool resume = false, quiet = false;
  BugValidationOptions checks;
};

// One candidate's outcome, for rewards.jsonl and summary.json.
struct Outcome {
  std::string bug_id, strategy, description;
  bool done = false, valid = false, infra = false;
  std::string rejection, reason;
  std::vector<bool> solved;
  int solver_infra = 0;      // repair episodes that failed on the infrastructure (not in the solve rate)
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

// The solver spec's form, checked before any work (run_job's preflight checks the rest).
std::string solver_problem(const std::string& spec) {
  if (spec == "none" || spec == "oracle") return "";
  for (const char* prefix : {"openai:", "model:"})
    if (spec.rfind(prefix, 0) == 0) return "";
  if (spec.rfind("replay:", 0) == 0) {
    std::error_code ec;
    return fs::is_regular_file(spec.substr(7), ec) ? "" : "no file " + spec.substr(7) + " to replay";
  }
  return "not a policy: use none, oracle, replay:TRAJ, openai:URL[#model] or model:PATH";
}

// A candidate finished in an earlier invocation (--resume): its outcome from artifact.json.
bool load_outcome(const fs::path& record_path, Outcome& o) {
  std::ifstream in(record_path);
  if (!in) return false;
  nlohmann::json r;
  try {
    r = nlohmann::json::parse(in);
  } catch (const std::exception&) {
    return false;  // torn: the candidate runs again
  }
  if (r.value("unused", false) || !r.contains("validation")) return false;
  const nlohmann::json& v = r["validation"];
  o.valid = v.value("valid", false);
  o.infra = v.value("infra_failure", false);
  if (o.infra) return false;  // infrastructure failures run again
  o.rejection = v.contains("rejection") && v["rejection"].is_string() ? v["rejection"].get<std::string>() : "";
  o.reason = v.value("reason", std::string());
  o.test_runs = v.value("test_runs", 0);
  o.cached_runs = v.value("cached_runs", 0);
  if (o.valid) {
    if (!r.contains("instance")) return false;
    o.instance = r["instance"];
  }
  o.done = true;
  return true;
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
      "becomes a SWE-bench instance (gold = the bug reversed, test_patch = the weakening reversed).\n"
      "Then --group repair episodes per bug: the --solver policy (any `swebox run` accepts) works on the\n"
      "buggy, weakened repository with a one-commit history, prompted with templates/selfplay/repair.txt,\n"
      "judged with sealed grading (the original tests restored); solver and injector get SSR's rewards.\n"
      "Writes OUT/artifacts/<bug>/ (files + artifact.json), OUT/instances.jsonl (for `swebox eval --suite\n"
      "OUT/instances.jsonl --repos OUT/repos`), OUT/solver/ (the repair episodes as `swebox run` writes\n"
      "them, task_kind \"repair\"), OUT/rewards.jsonl, OUT/summary.json and OUT/selfplay.json (identity).\n"
      "Injectors: procedural (Python-AST mutations in SWE-smith's style and removal of a function's\n"
      "logic) and history (a past commit reverted). --solver none: validation only (no episodes, no rewards).\n"
      "The repository's tests must run with Debian's python3 and pytest (PYTHONPATH=/testbed).\n"
      "Exit status: 0 done; 1 could not start or write, or a mismatched --resume; 2 usage; 3 done, but\n"
      "candidates or repair episodes failed on the infrastructure.",
      {"swebox selfplay --repo toolz-repo --out sp --injector procedural --solver oracle --bugs 10 -j 2",
       "swebox selfplay --repo toolz-repo --out sp --solver openai:http://127.0.0.1:8000/v1#m --group 8",
       "swebox selfplay --repo toolz-repo --out sp-history --injector history --solver none"});
  app.add_option("--repo", a.repo, "the git repository bugs are injected into (its HEAD)")->type_name("DIR")->required();
  app.add_option("--out", a.out, "output directory (must not exist or be empty, unless --resume)")->type_name("DIR")->required();
  app.add_option("--injector", a.injector, "procedural | history")
      ->check(CLI::IsMember({"procedural", "history"}))
      ->capture_default_str();
  app.add_option("--solver", a.solver, "the repair policy: oracle | replay:TRAJ | openai:URL[#model] | model:PATH | none")
      ->type_name("POLICY")->capture_default_str();
  app.add_option("--bugs", a.bugs, "stop after this many valid bugs")->check(whole_number_at_least(1))->capture_default_str();
  app.add_option("--max-candidates", a.max_candidates, "candidates to try at most (default 10 x --bugs)")
      ->check(whole_number_at_least(1));
  app.add_option("--group", a.group, "solver attempts per bug (SSR's G)")->check(whole_number_at_least(1))->capture_default_str();
  app.add_option("--alpha", a.alpha, "the injector's penalty for a solve rate of 0 or 1")->check(fraction())->capture_default_str();
  app.add_option("-j,--jobs", a.jobs, "candidates (and repair episodes) at once")->check(whole_number_at_least(1))->capture_default_str();
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
  app.add_option("--max-turns", a.max_turns, "a repair episode's turns at most")->check(whole_number_at_least(1))->capture_default_str();
  app.add_option("--cache", a.cache, "base tree cache (default $SWEBOX_CACHE or ~/.cache/swebox/trees)")->type_name("DIR");
  app.add_option("--environments", a.table, "environment table")->type_name("FILE")->capture_default_str();
  app.add_flag("--resume", a.resume, "continue the run in --out: validated artifacts and finished episodes are kept");
  app.add_flag("--quiet", a.quiet, "no progress display for the repair episodes");
  if (auto status = parse_command_line(app, argc, argv)) return *status;
  if (std::string p = solver_problem(a.solver); !p.empty()) {
    print_error("swebox selfplay: --solver %s: %s\n", a.solver.c_str(), p.c_str());
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
          print_error("swebox selfplay: --strategies: unknown strategy '%s'\n", s.c_str());
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
    print_error("swebox selfplay: --repo %s: %s\n", a.repo.c_str(), e.what());
    return 1;
  }
  const std::string repo_name = repo_name_for(a.repo);
  const std::string repos_dir = (fs::path(a.out) / "repos").string();
  const std::string repo_path = repository_path(repos_dir, repo_name);
  const fs::path artifacts_dir = fs::path(a.out) / "artifacts";
  const fs::path identity_path = fs::path(a.out) / "selfplay.json";
  // The run's identity: what makes a resumed run the same run (the candidates, their checks, the
  // solver and its group). --resume refuses another, naming each difference, as `swebox run` does.
  nlohmann::json identity = {{"repo", repo_name},
                             {"original_commit", original},
                             {"injector", a.injector},
                             {"seed", a.seed},
                             {"strategies", a.strategies},
                             {"bugs", a.bugs},
                             {"max_candidates", a.max_candidates},
                             {"thresholds",
                              {{"min_passing_tests", a.checks.min_passing_tests},
                               {"min_changed_files", a.checks.min_changed_files},
                               {"min_failing_tests", a.checks.min_failing_tests},
                               {"script_timeout_s", a.script_timeout}}},
                             {"solver", a.solver},
                             {"group", a.group},
                             {"alpha", a.alpha},
                             {"max_turns", a.max_turns},
                             {"swebox_version", swebox_version()}};
  std::error_code ec;
  const bool out_has_files = fs::exists(a.out) && !(fs::is_directory(a.out) && fs::is_empty(a.out, ec));
  if (out_has_files && !a.resume) {
    print_error("swebox selfplay: --out %s exists and is not empty; give a new directory, or --resume to "
                         "continue the run there\n", a.out.c_str());
    return 1;
  }
  if (out_has_files) {
    nlohmann::json was;
    try {
      std::ifstream in(identity_path);
      if (!in) throw std::runtime_error("cannot read it");
      was = nlohmann::json::parse(in).at("identity");
    } catch (const std::exception& e) {
      print_error("swebox selfplay: --resume: %s is not a selfplay run's identity (%s); give the --out of a "
                           "`swebox selfplay` run\n", identity_path.string().c_str(), e.what());
      return 1;
    }
    std::vector<std::string> diffs = identity_differences(was, identity);
    if (!diffs.empty()) {
      std::string msg = "--resume would continue the run in " + a.out + " with a different identity:";
      for (const std::string& d : diffs) msg += "\n  " + d;
      print_error("swebox selfplay: %s\nuse the recorded settings or choose another --out\n", msg.c_str());
      return 1;
    }
  }
  EnvironmentTable table;
  std::string statement_template;
  try {
    table = EnvironmentTable::load(a.table);
    statement_template = read_template("selfplay/repair.txt");
  } catch (const std::exception& e) {
    print_error("swebox selfplay: %s\n", e.what());
    return 1;
  }
  Environment env = table.resolve(repo_name, "selfplay");
  try {
    fs::create_directories(repos_dir);
    fs::create_directories(artifacts_dir);
    if (!fs::exists(repo_path)) clone_bare(a.repo, repo_path);
    if (!out_has_files) swebox::traj::write_file_atomically(identity_path.string(), nlohmann::json{{"identity", identity}}.dump(2) + "\n");
    swebox::sandbox::start_native_backend();
  } catch (const std::exception& e) {
    print_error("swebox selfplay: %s\n", e.what());
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
    print_error("swebox selfplay: %s\n", e.what());
    return 1;
  }

  std::vector<BugCandidate> candidates;
  try {
    candidates = a.injector == "history" ? history_candidates(a.repo, original, a.max_candidates)
                                         : procedural_candidates(*runner, a.seed, a.max_candidates, strategies);
  } catch (const std::exception& e) {
    print_error("swebox selfplay: the %s injector: %s\n", a.injector.c_str(), e.what());
    return 1;
  }
  std::printf("%zu %s candidates\n", candidates.size(), a.injector.c_str());

  // ---- phase 1: validation. Candidates finished earlier (--resume) are read back, not rerun.
  std::vector<Outcome> outcomes(candidates.size());
  std::atomic<int> valid{0};
  size_t resumed = 0;
  for (size_t i = 0; i < candidates.size(); ++i) {
    char id[64];
    std::snprintf(id, sizeof id, "ssr-%04zu", i);
    Outcome& o = outcomes[i];
    o.bug_id = id;
    o.strategy = candidates[i].strategy;
    o.description = candidates[i].description;
    if (a.resume && load_outcome(artifacts_dir / id / kArtifactRecordFile, o)) {
      ++resumed;
      if (o.valid) ++valid;
    }
  }
  if (resumed) std::printf("resuming: %zu candidates already judged (%d valid)\n", resumed, valid.load());
  std::atomic<size_t> next{0};
  std::mutex git_mutex, print_mutex;
  auto work = [&]() {
    for (;;) {
      if (valid.load() >= a.bugs) return;
      size_t i = next++;
      if (i >= candidates.size()) return;
      const BugCandidate& c = candidates[i];
      Outcome& o = outcomes[i];
      if (o.done) continue;
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
          record["instance"] = o.instance;
        } else if (v.valid) {
          o.valid = false;  // past --bugs: not counted, not an instance
          o.reason = "not used: --bugs reached";
          record["unused"] = true;
        }
        // Written whole or not at all: a --resume reads it back.
        swebox::traj::write_file_atomically((dir / kArtifactRecordFile).string(), record.dump(2) + "\n");
        o.done = !record.contains("unused");
      } catch (const std::exception& e) {
        o.infra = true;
        o.reason = e.what();
        o.done = true;
      }
      std::lock_guard<std::mutex> lock(print_mutex);
      std::printf("%s %-16s %-8s %s%s\n", o.bug_id.c_str(), o.strategy.c_str(),
                  o.valid ? "valid" : (o.infra ? "infra" : (o.done ? "rejected" : "unused")), o.rejection.c_str(),
                  o.valid || o.reason.empty() ? "" : (": " + o.reason.substr(0, 160)).c_str());
      std::fflush(stdout);
    }
  };
  std::vector<std::thread> threads;
  for (int j = 0; j < a.jobs; ++j) threads.emplace_back(work);
  for (auto& t : threads) t.join();
  const double validation_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

  const fs::path instances_path = fs::path(a.out) / "instances.jsonl";
  int n_valid = 0;
  try {
    std::string text;
    for (const auto& o : outcomes)
      if (o.done && o.valid && !o.infra) {
        text += o.instance.dump() + "\n";
        ++n_valid;
      }
    swebox::traj::write_file_atomically(instances_path.string(), text);
  } catch (const std::exception& e) {
    print_error("swebox selfplay: %s\n", e.what());
    return 1;
  }

  // ---- phase 2: the repair episodes, a `swebox run` of the instances (resumable as one).
  int solver_status = 0;
  const std::string solver_dir = (fs::path(a.out) / "solver").string();
  std::map<std::string, std::vector<const swebox::traj::Episode*>> episodes_of;
  std::vector<swebox::traj::Episode> episodes;
  if (a.solver != "none" && n_valid > 0) {
    // The episodes' environment: the table's, with the repository entered as what the validation
    // ran it with (the defaults), so that the run's preflight knows it (OUT/environments.json).
    const std::string solver_table = (fs::path(a.out) / "environments.json").string();
    try {
      std::ifstream in(a.table);
      nlohmann::json t = nlohmann::json::parse(in);
      t["repos"][repo_name] = nlohmann::json::array(
          {{{"versions", {"selfplay"}},
            {"note", "entered by swebox selfplay: its bugs were validated with the defaults, as the repairs are judged"}}});
      swebox::traj::write_file_atomically(solver_table, t.dump(2) + "\n");
    } catch (const std::exception& e) {
      print_error("swebox selfplay: writing %s from %s: %s\n", solver_table.c_str(), a.table.c_str(), e.what());
      return 1;
    }
    RunOptions ro;
    ro.suite = instances_path.string();
    ro.policy = a.solver;
    ro.repos_dir = repos_dir;
    ro.out_dir = solver_dir;
    ro.cache_dir = a.cache;
    ro.environments = solver_table;
    ro.jobs = a.jobs;
    ro.samples = a.group;
    ro.resume = a.resume;
    ro.run_id = "selfplay";
    ro.progress = !a.quiet;
    ro.episode.task_kind = "repair";
    ro.episode.max_turns = a.max_turns;
    ro.episode.grading = GradingMode::sealed;
    ro.episode.eval_timeout_s = a.script_timeout + 60;
    ro.argv.assign(argv, argv + argc);
    ro.argv.insert(ro.argv.begin(), "swebox");
    solver_status = run_job(ro);
    if (solver_status != kRunOk && solver_status != kRunInfraErrors) {
      print_error("swebox selfplay: the repair episodes stopped (swebox run's status %d); validated bugs "
                           "are kept, rerun with --resume to continue\n", solver_status);
      return solver_status == kRunInterrupted ? solver_status : 1;
    }
    try {
      episodes = swebox::traj::latest_per_key(swebox::traj::read_trajectories(solver_dir + "/trajectories.jsonl"));
    } catch (const std::exception& e) {
      print_error("swebox selfplay: the repair episodes: %s\n", e.what());
      return 1;
    }
    for (const auto& e : episodes) episodes_of[e.instance_id].push_back(&e);
  }
  // Rewards from the episodes: the solver +1 resolved, -1 not; an infrastructure failure is no
  // attempt (not in the solve rate; the record says so).
  for (auto& o : outcomes) {
    if (!o.done || !o.valid || o.infra || a.solver == "none") continue;
    auto it = episodes_of.find(o.instance.value("instance_id", std::string()));
    if (it == episodes_of.end()) continue;
    std::vector<const swebox::traj::Episode*> eps = it->second;
    std::sort(eps.begin(), eps.end(), [](auto* x, auto* y) { return x->sample < y->sample; });
    for (const auto* e : eps) {
      if (e->outcome() == swebox::traj::Outcome::infra_error) ++o.solver_infra;
      else o.solved.push_back(e->resolved());
    }
    o.injector_reward = injector_reward(true, solve_rate(o.solved), a.alpha);
  }
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

  // The outputs.
  nlohmann::json rejections = nlohmann::json::object(), per_strategy = nlohmann::json::object();
  int n_candidates = 0, n_infra = 0, n_solver_infra = 0;
  try {
    std::string rewards;
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
        st["valid"] = st["valid"].get<int>() + 1;
        line["instance_id"] = o.instance["instance_id"];
        if (a.solver != "none") {
          nlohmann::json solver = nlohmann::json::array();
          for (bool s : o.solved) solver.push_back(solver_reward(s));
          line["solver_rewards"] = solver;
          if (o.solver_infra) line["solver_infra_failures"] = o.solver_infra;
          n_solver_infra += o.solver_infra;
          if (!o.solved.empty()) {
            line["solve_rate"] = solve_rate(o.solved);
            line["injector_reward"] = o.injector_reward;
          }
        }
      } else {
        rejections[o.rejection] = rejections.value(o.rejection, 0) + 1;
        line["rejection"] = o.rejection;
        line["injector_reward"] = injector_reward(false, 0, a.alpha);
      }
      rewards += line.dump() + "\n";
    }
    swebox::traj::write_file_atomically((fs::path(a.out) / "rewards.jsonl").string(), rewards);
    nlohmann::json summary = identity;
    summary.erase("swebox_version");
    summary.update({{"candidates", n_candidates},
                    {"valid", n_valid},
                    {"infra_failures", n_infra},
                    {"rejections", rejections},
                    {"strategies", per_strategy},
                    {"repair_episodes", episodes.size()},
                    {"repair_infra_failures", n_solver_infra},
                    {"solver_run", a.solver == "none" ? "" : solver_dir},
                    {"test_runs", runner->runs_done()},
                    {"cached_runs", runner->runs_cached()},
                    {"resumed_candidates", resumed},
                    {"validation_seconds", validation_s},
                    {"seconds", seconds}});
    write_json(fs::path(a.out) / "summary.json", summary);
  } catch (const std::exception& e) {
    print_error("swebox selfplay: %s\n", e.what());
    return 1;
  }
  std::printf("%d candidates, %d valid, %d infra failures; %zu repair episodes (%d infra failures) in %.1f s; %s\n",
              n_candidates, n_valid, n_infra, episodes.size(), n_solver_infra, seconds,
              (fs::path(a.out) / "summary.json").string().c_str());
  return n_infra || n_solver_infra || solver_status == kRunInfraErrors ? 3 : 0;
}
