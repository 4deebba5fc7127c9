// The same attacks through the command line, `swebox sandbox exec`, as a user would run them.
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstdio>
#include <filesystem>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "sandbox/host_uids.h"
#include "tests/sandbox_hostile/hostile_support.h"

using namespace swebox::sandbox;
using namespace swebox::sandbox::hostile;

namespace {

struct CliResult {
  int status = -1;  // exit status of `swebox`
  std::string out;  // its stdout (stderr goes to the test's log)
};

// Runs `swebox sandbox exec <args>` through the shell; args are shell words.
CliResult swebox_exec(const std::string& args) {
  std::string cmd = std::string(SWEBOX_BINARY) + " sandbox exec " + args;
  CliResult r;
  FILE* p = popen(cmd.c_str(), "r");
  REQUIRE_MESSAGE(p != nullptr, "cannot run ", cmd);
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) r.out.append(buf, n);
  int st = pclose(p);
  r.status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
  MESSAGE("swebox sandbox exec ", args, " -> ", r.status, "\n", r.out.substr(0, 1500));
  return r;
}

std::string quoted(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

// The dir of process `pid`'s cgroup that holds `file` (a limit), as the host sees it: in the v1
// hierarchy of `controller`, else in the v2 one. "" when none has it.
std::string cgroup_dir_with(pid_t pid, const std::string& controller, const std::string& file) {
  std::istringstream in(read_host_file("/proc/" + std::to_string(pid) + "/cgroup"));
  std::string line;
  while (std::getline(in, line)) {
    size_t a = line.find(':'), b = line.find(':', a + 1);
    if (b == std::string::npos) continue;
    std::string list = "," + line.substr(a + 1, b - a - 1) + ",", path = line.substr(b + 1);
    std::string dir = list == ",," ? "/sys/fs/cgroup" + path
                                   : list.find("," + controller + ",") != std::string::npos
                                         ? "/sys/fs/cgroup/" + controller + path
                                         : "";
    if (!dir.empty() && host_path_exists(dir + "/" + file)) return dir;
  }
  return "";
}

void wait_until_gone(const std::string& token) {
  std::vector<pid_t> left;
  for (int i = 0; i < 30; ++i) {
    left = host_pids_with(token);
    if (left.empty()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  CHECK_MESSAGE(left.empty(), left.size(), " process(es) of the sandbox outlived `swebox sandbox exec`");
}

}  // namespace

TEST_CASE("swebox sandbox exec: a fork bomb ends at the timeout with status 137 and leaves no process") {
  HostCanary canary;
  std::string token = random_token();
  CliResult r = swebox_exec("--pids 32 --timeout 2 -- bash -c " +
                            quoted("b() { b | b & }; b; sleep 100 # " + token));
  CHECK(r.status == 137);
  wait_until_gone(token);
  canary.expect_intact();
  CHECK(swebox_exec("-- echo serving").out == "serving\n");
}

TEST_CASE("swebox sandbox exec: kill -9 -1 inside leaves host processes alive") {
  HostCanary canary;
  char host_ns[64] = {0};
  REQUIRE(readlink("/proc/self/ns/pid", host_ns, sizeof host_ns - 1) > 0);
  CliResult ns = swebox_exec("-- readlink /proc/self/ns/pid");
  REQUIRE_MESSAGE((ns.status == 0 && ns.out.find(host_ns) == std::string::npos),
                  "the sandbox shares the host's pid namespace; kill -1 is not tried");

  swebox_exec("--timeout 5 -- bash -c " +
              quoted("kill -9 " + std::to_string(canary.child()) + " " + std::to_string(getpid()) + "; kill -9 -1"));
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  CHECK(kill(canary.child(), 0) == 0);
  canary.expect_intact();
  CHECK(swebox_exec("-- echo serving").out == "serving\n");
}

TEST_CASE("swebox sandbox exec: writes to the workspace, /etc and host paths do not reach the host") {
  HostCanary canary;
  TempDir workspace;
  write_host_file(workspace / "original.txt", "original\n");
  // Writable by the sandbox's user (it need not be root), as a checked-out repository would be.
  chmod(workspace.path().c_str(), 0777);
  chmod((workspace / "original.txt").c_str(), 0666);
  std::string name = random_token();
  CliResult r = swebox_exec("--workspace " + workspace.path() + " -- bash -c " +
                            quoted("echo pwned > /testbed/original.txt; echo pwned > /testbed/new.txt; echo pwned > /etc/" +
                                   name + "; echo pwned > " + canary.file() + "; cat /testbed/original.txt"));
  CHECK(r.out == "pwned\n");  // the sandbox saw its own change
  CHECK(read_host_file(workspace / "original.txt") == "original\n");
  CHECK_FALSE(host_path_exists(workspace / "new.txt"));
  CHECK_FALSE(host_path_exists("/etc/" + name));
  canary.expect_intact();
}

TEST_CASE("swebox sandbox exec: a memory bomb is reported as a memory kill") {
  HostCanary canary;
  CliResult r = swebox_exec("--memory 64M --timeout 30 --json -- /usr/bin/python3 -c " +
                            quoted("x = []\nwhile True: x.append(bytearray(16 << 20))"));
  auto j = nlohmann::json::parse(r.out, nullptr, false);
  REQUIRE_FALSE_MESSAGE(j.is_discarded(), "not JSON: ", r.out);
  CHECK(j.value("reason", "") == "memory");
  CHECK(r.status != 0);
  canary.expect_intact();
  CHECK(swebox_exec("-- echo serving").out == "serving\n");
}

TEST_CASE("swebox sandbox exec: a setuid binary left in a kept upper comes back without its setuid bits") {
  TempDir workspace, keep;
  std::string state = keep / "state";
  CliResult r = swebox_exec("--workspace " + workspace.path() + " --state-dir " + state + " -- bash -c " +
                            quoted("cp /bin/sh /testbed/rootshell && chmod 6755 /testbed/rootshell && "
                                   "stat -c %a /testbed/rootshell"));
  CHECK(r.out == "6755\n");  // inside, the agent set them
  struct stat st;
  REQUIRE(stat((state + "/upper/rootshell").c_str(), &st) == 0);
  CHECK((st.st_mode & (S_ISUID | S_ISGID)) == 0);
  REQUIRE(stat(state.c_str(), &st) == 0);
  CHECK((st.st_mode & 07777) == 0700);
  CHECK(st.st_uid == geteuid());
}

// `swebox sandbox exec` makes its one sandbox without anything made ahead (expect_single_sandbox):
// the same sandbox, checked from inside and from the host while it runs, and nothing of it left.
TEST_CASE("swebox sandbox exec: a one-shot sandbox has its own uid, root, pid namespace and cgroup limits, and leaves nothing") {
  if (geteuid() != 0) return;  // the host uid and the cgroups are root's
  TempDir tmp;  // the command's TMPDIR: its temp state dir is made there
  std::string token = random_token();
  std::string cmd = "TMPDIR=" + tmp.path() + " " + SWEBOX_BINARY + " sandbox exec --memory 256M --pids 64 -- sh -c " +
                    quoted("cat /proc/self/uid_map; id -u; test -e /work && echo sees-work; test -e /root && echo sees-root; "
                           "echo pid $$; sleep 2 # " + token);
  FILE* p = popen(cmd.c_str(), "r");
  REQUIRE(p != nullptr);
  host_uids::Range range;
  REQUIRE(host_uids::read_range(&range).empty());
  // The command's process (the host's shell and `swebox` carry the token too): a sandbox uid's.
  std::vector<pid_t> running;
  struct stat st;
  for (int i = 0; i < 100 && running.empty(); ++i) {
    for (pid_t pid : host_pids_with(token))
      if (stat(("/proc/" + std::to_string(pid)).c_str(), &st) == 0 && st.st_uid >= range.start &&
          st.st_uid < uint64_t(range.start) + range.count)
        running.push_back(pid);
    if (running.empty()) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  REQUIRE_MESSAGE(!running.empty(), "the command never ran as a host uid of the sandbox range");
  std::string memory = cgroup_dir_with(running[0], "memory", "memory.limit_in_bytes");
  if (memory.empty()) memory = cgroup_dir_with(running[0], "memory", "memory.max");
  std::string pids = cgroup_dir_with(running[0], "pids", "pids.max");
  REQUIRE(!memory.empty());
  REQUIRE(!pids.empty());
  CHECK(memory.find("/swebox-") != std::string::npos);
  std::string limit = read_host_file(memory + "/memory.limit_in_bytes");
  if (limit.empty()) limit = read_host_file(memory + "/memory.max");
  CHECK(limit == std::to_string(256 << 20) + "\n");
  CHECK(read_host_file(pids + "/pids.max") == "64\n");
  REQUIRE(stat(("/proc/" + std::to_string(running[0])).c_str(), &st) == 0);
  CHECK(st.st_uid != geteuid());

  std::string out;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  CHECK(pclose(p) == 0);
  MESSAGE(out);
  std::istringstream lines(out);
  std::string inside, outside, count, uid;
  lines >> inside >> outside >> count >> uid;
  CHECK(inside == "1000");
  CHECK(outside == std::to_string(st.st_uid));
  CHECK(uid == "1000");
  CHECK(out.find("sees-") == std::string::npos);
  size_t at = out.find("pid ");
  REQUIRE(at != std::string::npos);
  CHECK(std::stoi(out.substr(at + 4)) < 10);  // its own pid namespace

  // Torn down after the command's exit (by the sandbox helper, which outlives it for that).
  wait_until_gone(token);
  bool left = true;
  for (int i = 0; i < 100 && left; ++i) {
    left = host_path_exists(memory) || host_path_exists(pids) || !std::filesystem::is_empty(tmp.path());
    if (left) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  CHECK_FALSE_MESSAGE(host_path_exists(memory), memory, " is left");
  CHECK_FALSE_MESSAGE(host_path_exists(pids), pids, " is left");
  CHECK_MESSAGE(std::filesystem::is_empty(tmp.path()), "a temp state dir is left in ", tmp.path());
  CHECK(read_host_file("/proc/self/mountinfo").find(tmp.path()) == std::string::npos);
}

// The sandbox of `swebox sandbox exec` is torn down by a process that shares its memory and
// outlives it. Killed mid-command by a Ctrl-C to its process group (the terminal's signal reaches
// every process of the group), it starts that process before the signal ends it: nothing is left.
// Killed with SIGKILL (which nothing can catch), its sandbox dies with it (init's parent-death
// signal), and what is left on the host (empty cgroups, the workspace's temp dir and tmpfs) is
// removed by the next `swebox sandbox exec`.
TEST_CASE("swebox sandbox exec: killed mid-command (Ctrl-C to its process group, or SIGKILL), it leaves nothing") {
  if (geteuid() != 0) return;  // the cgroups and the workspace's tmpfs are root's
  for (int sig : {SIGINT, SIGKILL}) {
    CAPTURE(sig);
    TempDir tmp, ws;
    std::string token = random_token();
    std::string script = "sleep 30 # " + token;
    pid_t front = fork();
    REQUIRE(front >= 0);
    if (front == 0) {
      setpgid(0, 0);
      setenv("TMPDIR", tmp.path().c_str(), 1);
      execl(SWEBOX_BINARY, "swebox", "sandbox", "exec", "--workspace", ws.path().c_str(), "--", "sh", "-c",
            script.c_str(), static_cast<char*>(nullptr));
      _exit(127);
    }
    setpgid(front, front);
    host_uids::Range range;
    REQUIRE(host_uids::read_range(&range).empty());
    pid_t running = -1;
    struct stat st;
    for (int i = 0; i < 100 && running < 0; ++i) {
      for (pid_t pid : host_pids_with(token))
        if (stat(("/proc/" + std::to_string(pid)).c_str(), &st) == 0 && st.st_uid >= range.start &&
            st.st_uid < uint64_t(range.start) + range.count)
          running = pid;
      if (running < 0) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    REQUIRE_MESSAGE(running > 0, "the command never ran in the sandbox");
    std::string pids = cgroup_dir_with(running, "pids", "pids.max");
    REQUIRE(!pids.empty());
    REQUIRE(!std::filesystem::is_empty(tmp.path()));  // the workspace's temp state dir
    if (sig == SIGINT) kill(-front, SIGINT);
    else kill(front, SIGKILL);
    int status = 0;
    REQUIRE(waitpid(front, &status, 0) == front);
    CHECK(WIFSIGNALED(status));
    CHECK(WTERMSIG(status) == sig);
    wait_until_gone(token);
    if (sig == SIGKILL) {
      // The next single sandbox (its teardown, after its own exit) removes the litter.
      std::string cmd = "TMPDIR=" + tmp.path() + " " + SWEBOX_BINARY + " sandbox exec -- true";
      CHECK(std::system(cmd.c_str()) == 0);
    }
    bool left = true;
    for (int i = 0; i < 100 && left; ++i) {
      left = host_path_exists(pids) || !std::filesystem::is_empty(tmp.path()) ||
             read_host_file("/proc/self/mountinfo").find(tmp.path()) != std::string::npos;
      if (left) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    CHECK_FALSE_MESSAGE(host_path_exists(pids), pids, " is left");
    CHECK_MESSAGE(std::filesystem::is_empty(tmp.path()), "a temp state dir is left in ", tmp.path());
    CHECK(read_host_file("/proc/self/mountinfo").find(tmp.path()) == std::string::npos);
  }
}
