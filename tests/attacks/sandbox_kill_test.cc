// An agent that turns on its own sandbox, as real `swebox run` episodes. It cannot reach init (its
// /proc files are root's, signals from inside do not reach it), its bash session restarts after a
// memory bomb, and a sandbox that dies mid-episode all the same is the model's outcome: never an
// infra error that pass@k leaves out and `--resume` reruns (an agent would otherwise kill its
// sandbox to turn a failing episode into a fresh try).
#include <doctest/doctest.h>

#include <dirent.h>
#include <signal.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>

#include "attack_episode.h"
#include "trajectories/writer.h"

using namespace swebox::test;

namespace {

std::string observation(const nlohmann::json& episode, size_t turn) {
  const auto& turns = episode["turns"];
  return turn < turns.size() ? turns[turn]["observation"]["text"].get<std::string>() : "";
}

std::string read_proc(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

long parent_of(long pid) {
  std::string status = read_proc("/proc/" + std::to_string(pid) + "/status");
  size_t at = status.find("\nPPid:");
  return at == std::string::npos ? 0 : std::stol(status.substr(at + 6));
}

// The host pid of the sandbox init above the process whose command line holds `marker`, or 0.
long init_above(const std::string& marker) {
  DIR* d = opendir("/proc");
  long found = 0;
  while (dirent* e = d ? readdir(d) : nullptr) {
    long pid = std::atol(e->d_name);
    if (pid <= 0) continue;
    std::string cmdline = read_proc("/proc/" + std::to_string(pid) + "/cmdline");
    if (cmdline.find(marker) == std::string::npos || cmdline.find("bash") != std::string::npos) continue;
    for (long p = pid; p > 1; p = parent_of(p))
      if (read_proc("/proc/" + std::to_string(p) + "/comm") == "swebox-init\n") found = p;
    if (found) break;
  }
  if (d) closedir(d);
  return found;
}

}  // namespace

TEST_CASE("sandbox attack: init's /proc files, kill -9 -1 and a memory bomb do not take the sandbox down") {
  SWEBOX_REQUIRE_ATTACKS();
  AttackRun run = run_attack_episodes({
      {"swebox-fixtures__calc-1",
       {bash_action("echo 1000 > /proc/1/oom_score_adj; echo 7 > /proc/1/coredump_filter; cat /proc/1/oom_score_adj"),
        bash_action("for i in 1 2 3 4 5; do python3 -c 'import time; x = bytearray(500 << 20); time.sleep(3)' & done; "
                    "wait; kill -9 -1"),
        bash_action("echo still-here"), submit_action("/tmp/none.diff"), "Done."}},
  });
  INFO(run.console);
  CHECK(run.exit_code == 0);
  const nlohmann::json* e = run.episode("swebox-fixtures__calc-1");
  REQUIRE(e);
  INFO(e->dump(2).substr(0, 6000));
  std::string first = observation(*e, 0);
  CHECK(first.find("Permission denied") != std::string::npos);
  CHECK(first.find("\n1000\n") == std::string::npos);
  CHECK(observation(*e, 2).find("still-here") != std::string::npos);
  CHECK((*e)["terminal"]["outcome"] == "model");
}

TEST_CASE("sandbox attack: a sandbox that dies mid-episode is the model's outcome, and --resume keeps it") {
  SWEBOX_REQUIRE_ATTACKS();
  // The agent cannot kill init; the test does it from the host, as an OOM kill of init would, while
  // the agent's command runs.
  const std::string marker = "31.4159";
  std::atomic<bool> done{false}, killed{false};
  std::thread killer([&] {
    auto until = std::chrono::steady_clock::now() + std::chrono::seconds(120);
    while (!done && std::chrono::steady_clock::now() < until) {
      if (long init = init_above(marker)) {
        killed = kill(static_cast<pid_t>(init), SIGKILL) == 0;
        return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  });
  AttackRun run = run_attack_episodes({
      {"swebox-fixtures__calc-1", {bash_action("sleep " + marker), bash_action("echo never"), "Done."}},
  });
  done = true;
  killer.join();
  INFO(run.console);
  REQUIRE(killed);
  const nlohmann::json* e = run.episode("swebox-fixtures__calc-1");
  REQUIRE(e);
  INFO(e->dump(2).substr(0, 6000));
  CHECK((*e)["terminal"]["exit_status"] == "env_error");
  CHECK((*e)["extra"]["infra_stage"] == "sandbox");
  CHECK((*e)["terminal"]["outcome"] == "model");
  CHECK(run.all_outputs().find("never") == std::string::npos);
  std::ifstream summary(run.out_dir + "/summary.json");
  nlohmann::json s = nlohmann::json::parse(summary);
  CHECK(s["infra_errors"].empty());
  // --resume (rerunning infra errors, its default) counts it as done.
  CHECK(swebox::traj::done_keys(run.out_dir + "/trajectories.jsonl", true)
            .count(swebox::traj::episode_key("swebox-fixtures__calc-1", 0)) == 1);
}
