#include "attack_episode.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "../runner/runner_fixture.h"
#include "trajectories/record.h"
#include "trajectories/writer.h"

namespace swebox::test {

namespace fs = std::filesystem;

std::string bash_action(const std::string& command) { return "<tool: bash>\n" + command + "\n</tool>"; }
std::string submit_action(const std::string& path) { return "<tool: submit>\n" + path + "\n</tool>"; }

namespace {

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// Runs argv with stdout and stderr into `log`; kills the whole process group past timeout_s.
int run_with_timeout(const std::vector<std::string>& args, const std::string& log, double timeout_s) {
  pid_t pid = fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    setpgid(0, 0);
    int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    dup2(fd, 1);
    dup2(fd, 2);
    int null = open("/dev/null", O_RDONLY);
    dup2(null, 0);
    std::vector<std::string> copy = args;
    std::vector<char*> argv;
    for (std::string& a : copy) argv.push_back(a.data());
    argv.push_back(nullptr);
    execv(argv[0], argv.data());
    _exit(127);
  }
  auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(timeout_s);
  int status = 0;
  while (true) {
    pid_t r = waitpid(pid, &status, WNOHANG);
    if (r == pid) break;
    if (std::chrono::steady_clock::now() > deadline) {
      kill(-pid, SIGKILL);
      waitpid(pid, &status, 0);
      return -1;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

}  // namespace

const nlohmann::json* AttackRun::episode(const std::string& instance_id) const {
  for (const nlohmann::json& e : episodes)
    if (e.value("instance_id", "") == instance_id && e.value("sample", 0) == 0) return &e;
  return nullptr;
}

std::string AttackRun::all_outputs() const {
  std::string all = console;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(out_dir, fs::directory_options::skip_permission_denied, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (it->is_regular_file(ec) && !it->is_symlink(ec)) all += "\n" + slurp(it->path().string());
  }
  return all;
}

bool attacks_unavailable(std::string* why) {
  const RunnerFixture& f = runner_fixture();
  if (f.problem.empty()) return false;
  *why = f.problem;
  return true;
}

AttackRun run_attack_episodes(const std::vector<AttackEpisode>& episodes, const std::vector<std::string>& extra_args,
                              double timeout_s) {
  const RunnerFixture& f = runner_fixture();
  if (!f.problem.empty()) throw std::runtime_error("the fixture suite cannot be used: " + f.problem);
  static int counter = 0;
  std::string dir = f.scratch + "/attack-" + std::to_string(++counter);
  fs::create_directories(dir);

  // The replay file: one recorded episode per attack episode, holding only the actions.
  std::string replay = dir + "/replay.jsonl";
  std::string ids;
  {
    std::ofstream out(replay, std::ios::binary);
    for (const AttackEpisode& a : episodes) {
      traj::Episode e;
      e.episode_id = "attack/" + a.instance_id + "/0";
      e.instance_id = a.instance_id;
      e.model = "attacker";
      e.terminal.status = traj::ExitStatus::submitted;
      int i = 0;
      for (const std::string& text : a.actions) {
        traj::Turn t;
        t.index = ++i;
        t.action.text = text;
        e.turns.push_back(std::move(t));
      }
      out << traj::dump_line(traj::to_json(e)) << "\n";
      ids += (ids.empty() ? "" : ",") + a.instance_id;
    }
  }

  AttackRun run;
  run.out_dir = dir + "/out";
  std::vector<std::string> args = {SWEBOX_BINARY, "run",  "--suite", f.suite, "--policy", "replay:" + replay,
                                   "--repos",     f.repos, "--cache", f.cache, "--out",    run.out_dir,
                                   "--instances", ids,     "--quiet"};
  args.insert(args.end(), extra_args.begin(), extra_args.end());
  std::string log = dir + "/console.log";
  auto t0 = std::chrono::steady_clock::now();
  run.exit_code = run_with_timeout(args, log, timeout_s);
  run.wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  run.console = slurp(log);
  std::string trajectories = run.out_dir + "/trajectories.jsonl";
  if (fs::exists(trajectories)) run.episodes = traj::read_jsonl(trajectories);
  return run;
}

}  // namespace swebox::test
