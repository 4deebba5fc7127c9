#include <doctest/doctest.h>

#include <signal.h>
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <thread>

#include "runner/run_summary.h"
#include "run_command.h"
#include "runner_fixture.h"
#include "trajectories/writer.h"

namespace fs = std::filesystem;
using namespace swebox;
using swebox::test::runner_fixture;
using swebox::test::slurp;
using swebox::test::spawn_run;
using swebox::test::wait_exit;
using nlohmann::json;

namespace {

double binomial(int n, int k) {
  if (k < 0 || k > n) return 0;
  double r = 1;
  for (int i = 1; i <= k; ++i) r = r * (n - k + i) / i;
  return r;
}

std::vector<std::string> run_args(const std::string& out, std::vector<std::string> extra) {
  auto& f = runner_fixture();
  std::vector<std::string> a = {"--suite", f.suite, "--repos", f.repos, "--out", out, "--cache", f.cache,
                                "--policy", "oracle", "--quiet"};
  a.insert(a.end(), extra.begin(), extra.end());
  return a;
}

}  // namespace

TEST_CASE("pass@k is the unbiased estimator 1 - C(n-c,k)/C(n,k)") {
  for (int n : {1, 2, 5, 10, 16})
    for (int c = 0; c <= n; ++c)
      for (int k = 1; k <= n; ++k) {
        double expected = 1.0 - binomial(n - c, k) / binomial(n, k);
        CHECK(runner::pass_at_k(n, c, k) == doctest::Approx(expected).epsilon(1e-12));
      }
  CHECK(runner::pass_at_k(10, 0, 5) == 0.0);
  CHECK(runner::pass_at_k(10, 10, 1) == 1.0);
  CHECK(runner::pass_at_k(4, 1, 1) == doctest::Approx(0.25));
}

TEST_CASE("the run summary counts resolution per instance and pass@k over samples") {
  std::vector<traj::Episode> eps;
  for (int s = 0; s < 4; ++s) {
    traj::Episode e;
    e.instance_id = "a";
    e.sample = s;
    e.terminal.status = traj::ExitStatus::submitted;
    e.terminal.eval = {{"resolved", s == 0}};
    eps.push_back(e);
    e.instance_id = "b";
    e.terminal.eval = {{"resolved", false}};
    e.terminal.status = traj::ExitStatus::max_turns;
    eps.push_back(e);
  }
  json s = runner::summarize_run(eps, 60);
  CHECK(s["instances"] == 2);
  CHECK(s["episodes"] == 8);
  CHECK(s["resolved_instances"] == 1);
  CHECK(s["pass_at_k"]["pass@1"] == doctest::Approx((0.25 + 0) / 2));
  CHECK(s["pass_at_k"]["pass@4"] == doctest::Approx(0.5));
  CHECK(s["exit_status"]["max_turns"] == 4);
  CHECK(s["timing"]["episodes_per_minute"] == doctest::Approx(8.0));
}

TEST_CASE("swebox run with the oracle resolves the fixture suite and writes every output") {
  SWEBOX_REQUIRE_FIXTURE();
  std::string out = runner_fixture().scratch + "/run-oracle";
  int rc = wait_exit(spawn_run(run_args(out, {"-j", "3"}), runner_fixture().scratch + "/run-oracle.log"));
  INFO(slurp(runner_fixture().scratch + "/run-oracle.log"));
  REQUIRE(rc == 0);
  json summary = json::parse(slurp(out + "/summary.json"));
  size_t n = runner_fixture().instances.size();
  CHECK(summary["episodes"] == n);
  CHECK(summary["resolved_instances"] == n);
  CHECK(summary["pass_at_k"]["pass@1"] == 1.0);
  CHECK(summary["exit_status"]["submitted"] == n);
  auto preds = traj::read_jsonl(out + "/predictions.jsonl");
  CHECK(preds.size() == n);
  for (const json& p : preds) {
    CHECK(p["model_name_or_path"] == "oracle");
    CHECK(p["model_patch"].get<std::string>().find("diff --git") == 0);
    std::string iid = p["instance_id"];
    CHECK(fs::exists(out + "/logs/run_evaluation/swebox/oracle/" + iid + "/report.json"));
  }
  CHECK(summary.contains("swebench_report"));
  // A second run into the same directory must not silently append.
  int again = wait_exit(spawn_run(run_args(out, {}), runner_fixture().scratch + "/run-again.log"));
  CHECK(again == 1);
  CHECK(slurp(runner_fixture().scratch + "/run-again.log").find("--resume") != std::string::npos);
}

TEST_CASE("kill -9 at random moments and --resume: every episode exactly once, every line whole") {
  SWEBOX_REQUIRE_FIXTURE();
  std::string out = runner_fixture().scratch + "/run-kill";
  std::string log = runner_fixture().scratch + "/run-kill.log";
  const int samples = 4;
  auto args = run_args(out, {"-j", "4", "--samples", std::to_string(samples), "--no-eval", "--resume"});
  std::mt19937 rng(1234);
  int kills = 0;
  for (int round = 0; round < 6; ++round) {
    pid_t pid = spawn_run(args, log);
    std::this_thread::sleep_for(std::chrono::milliseconds(200 + rng() % 1500));
    if (kill(pid, SIGKILL) == 0) ++kills;
    wait_exit(pid);
    // Whatever the kill left must read back cleanly (an unterminated tail is skipped by readers).
    CHECK_NOTHROW(traj::read_trajectories(out + "/trajectories.jsonl"));
  }
  CHECK(kills > 0);
  int rc = wait_exit(spawn_run(args, log));
  INFO(slurp(log));
  REQUIRE(rc == 0);
  std::string content = slurp(out + "/trajectories.jsonl");
  CHECK((!content.empty() && content.back() == '\n'));
  auto episodes = traj::read_trajectories(out + "/trajectories.jsonl");
  std::map<std::string, int> seen;
  for (const traj::Episode& e : episodes) ++seen[traj::episode_key(e.instance_id, e.sample)];
  CHECK(seen.size() == runner_fixture().instances.size() * samples);
  for (const auto& [key, count] : seen) {
    CAPTURE(key);
    CHECK(count == 1);
  }
  for (const traj::Episode& e : episodes) CHECK(e.terminal.status == traj::ExitStatus::submitted);
}
