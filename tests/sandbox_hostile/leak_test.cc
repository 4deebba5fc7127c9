// Creating and destroying many sandboxes (idle, with live background processes, with timeouts,
// with resets, with calls still in flight) leaves nothing behind: no mounts, cgroups, processes,
// file descriptors, threads or temporary directories.
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <set>
#include <sstream>
#include <thread>

#include "tests/sandbox_hostile/hostile_support.h"

using namespace swebox::sandbox;
using namespace swebox::sandbox::hostile;
namespace fs = std::filesystem;

namespace {

std::set<std::string> entries(const std::string& dir) {
  std::set<std::string> out;
  std::error_code ec;
  for (auto it = fs::directory_iterator(dir, ec); !ec && it != fs::directory_iterator(); it.increment(ec))
    out.insert(it->path().filename());
  return out;
}

std::set<std::string> lines(const std::string& text) {
  std::set<std::string> out;
  std::istringstream in(text);
  for (std::string l; std::getline(in, l);) out.insert(l);
  return out;
}

// Every cgroup directory on the host, in every hierarchy (v1 controllers and the unified one).
std::set<std::string> cgroup_dirs() {
  std::set<std::string> out;
  std::error_code ec;
  fs::recursive_directory_iterator it("/sys/fs/cgroup", fs::directory_options::skip_permission_denied, ec), end;
  for (; !ec && it != end; it.increment(ec)) {
    if (it.depth() > 8) it.disable_recursion_pending();
    if (it->is_directory(ec) && !it->is_symlink(ec)) out.insert(it->path());
  }
  return out;
}

std::vector<std::string> added(const std::set<std::string>& before, const std::set<std::string>& after) {
  std::vector<std::string> out;
  for (const auto& x : after)
    if (!before.count(x)) out.push_back(x);
  return out;
}

std::string joined(const std::vector<std::string>& v) {
  std::string s;
  for (size_t i = 0; i < v.size() && i < 20; ++i) s += "\n  " + v[i];
  if (v.size() > 20) s += "\n  ... " + std::to_string(v.size() - 20) + " more";
  return s;
}

// What a leak would show in, taken at one moment.
struct HostState {
  std::set<std::string> fds = entries("/proc/self/fd");
  std::set<std::string> threads = entries("/proc/self/task");
  std::set<std::string> mountinfo = lines(read_host_file("/proc/self/mountinfo"));
  std::set<std::string> mounts = lines(read_host_file("/proc/mounts"));
  std::set<std::string> cgroups = cgroup_dirs();
  size_t descendants = host_descendants().size();
};

// What is in `now` and not in `base`, by kind; empty when nothing leaked.
std::vector<std::string> leaks(const HostState& base, const HostState& now, const std::string& own_root) {
  std::vector<std::string> out;
  for (const auto& x : added(base.fds, now.fds))
    out.push_back("fd " + x + " -> " + fs::read_symlink("/proc/self/fd/" + x).string());
  if (now.threads.size() > base.threads.size())
    out.push_back("threads " + std::to_string(base.threads.size()) + " -> " + std::to_string(now.threads.size()));
  // Other programs on this machine (other test runs) make sandboxes too: mounts count when they
  // lie under our own temp root, cgroups when named after one of our processes (the zygote:
  // "swebox-<pid>-<id>", spares being made "swebox-<pid>-<n>spare"). Sandboxes made ahead of
  // time are released before each look (release_spare_sandboxes), so none may be left.
  for (const auto& x : added(base.mountinfo, now.mountinfo))
    if (x.find(own_root) != std::string::npos) out.push_back("mountinfo: " + x);
  for (const auto& x : added(base.mounts, now.mounts))
    if (x.find(own_root) != std::string::npos) out.push_back("mounts: " + x);
  std::vector<pid_t> ours = host_descendants();
  for (const auto& x : added(base.cgroups, now.cgroups)) {
    std::string name = fs::path(x).filename();
    for (pid_t p : ours)
      if (name.find("swebox-" + std::to_string(p) + "-") != std::string::npos) out.push_back("cgroup: " + x);
  }
  for (const auto& x : entries(own_root)) out.push_back("temp: " + own_root + "/" + x);
  if (now.descendants > base.descendants)
    out.push_back("descendant processes " + std::to_string(base.descendants) + " -> " + std::to_string(now.descendants));
  return out;
}

struct Tally {
  int timeouts = 0, resets = 0, in_flight = 0, live = 0, failures = 0;
};

// Sandbox number i lives one of five lives, then is destroyed (every other one explicitly first).
void exercise(boost::asio::io_context& io, const Config& c, int i, Tally* tally = nullptr) {
  Tally ignored;
  Tally& t = tally ? *tally : ignored;
  auto sb = make_sandbox(io, c);
  switch (i % 5) {
    case 0:  // idle: one command
      t.failures += sb->run("true", 10).exit_code != 0;
      break;
    case 1:  // live background processes, one of them a setsid daemon
      t.failures += sb->run("sleep 1000 & (setsid sleep 1000 &) ; echo x > /testbed/f", 10).exit_code != 0;
      ++t.live;
      break;
    case 2:  // a timeout
      t.timeouts += sb->run("sleep 100", 0.2).reason == StopReason::timeout;
      break;
    case 3:  // a reset, then a command
      sb->write_file("/testbed/changed.txt", "x");
      sb->reset();
      t.failures += sb->run("test ! -e /testbed/changed.txt", 10).exit_code != 0;
      ++t.resets;
      break;
    case 4: {  // destroyed with calls still in flight
      sb->async_run("sleep 1000", 100, [](ExecResult) {});
      ExecRequest req;
      req.argv = {"sleep", "1000"};
      sb->async_exec(req, [](ExecResult) {});
      io.poll();
      ++t.in_flight;
      break;
    }
  }
  if (i % 2 == 0) sb->destroy();  // explicit destroy, then the destructor's (idempotent)
  sb.reset();
  io.restart();
  io.poll();
}

}  // namespace

TEST_CASE("200 sandboxes created and destroyed leave no mounts, cgroups, processes, fds or temp dirs") {
  TempDir layer;
  compile_attacks(layer.path());
  TempDir own;  // explicit state dirs live here (the caller's; not a leak)
  // The sandboxes' own temp state dirs go here (TMPDIR, read when the zygote starts), apart from
  // other programs' ones in /tmp.
  TempDir tmpdir;
  const char* old_tmpdir = getenv("TMPDIR");
  std::string saved_tmpdir = old_tmpdir ? old_tmpdir : "";
  setenv("TMPDIR", tmpdir.path().c_str(), 1);
  struct RestoreTmpdir {
    std::string value;
    ~RestoreTmpdir() { value.empty() ? unsetenv("TMPDIR") : setenv("TMPDIR", value.c_str(), 1); }
  } restore{saved_tmpdir};
  boost::asio::io_context io;
  Config base_config = hostile_config(layer.path());
  base_config.limits.pids = 32;
  // One round of every kind first: one-time set-up (the io_context's reactor, a zygote process,
  // cgroup parents) is made here and is not a leak.
  for (int i = 0; i < 5; ++i) exercise(io, base_config, i);
  release_spare_sandboxes();
  HostState before;

  constexpr int kSandboxes = 200;
  Tally tally;
  for (int i = 0; i < kSandboxes; ++i) {
    Config c = base_config;
    if (i % 4 == 1) c.state_dir = own / ("state-" + std::to_string(i));
    if (i % 8 == 3) c.limits.workspace_bytes = 8 << 20;
    exercise(io, c, i, &tally);
  }
  CHECK(tally.failures == 0);
  CHECK(tally.timeouts == kSandboxes / 5);
  MESSAGE(kSandboxes, " sandboxes: ", tally.live, " with live processes, ", tally.timeouts, " timeouts, ",
          tally.resets, " resets, ", tally.in_flight, " destroyed with calls in flight");

  // Teardown may finish asynchronously: give it a few seconds, then every leak is a failure.
  release_spare_sandboxes();
  std::vector<std::string> left;
  for (int attempt = 0; attempt < 50; ++attempt) {
    io.restart();
    io.poll();
    left = leaks(before, HostState{}, tmpdir.path());
    if (left.empty()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  CHECK_MESSAGE(left.empty(), left.size(), " leaked:", joined(left));

  // The explicit state dirs hold no mounts any more and can be removed by the caller.
  for (const auto& line : lines(read_host_file("/proc/self/mountinfo")))
    CHECK_MESSAGE(line.find(own.path()) == std::string::npos, "a mount is left under a state dir: ", line);
  std::error_code ec;
  fs::remove_all(own.path(), ec);
  CHECK_MESSAGE(!ec, "cannot remove the state dirs: ", ec.message());
  fs::create_directories(own.path());

  // And the manager still serves.
  auto after = make_sandbox(io, base_config);
  CHECK(after->run("echo ok", 10).out == "ok\n");
}
