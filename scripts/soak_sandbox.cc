// Sandbox soak test, built and run by scripts/soak-sandbox.sh. Makes many native sandboxes at
// once, the way `swebox run -j N` does (creation on a blocking thread pool, commands on one
// io_context), uses each right after creation (async_run, async_exec, write_file + read_file),
// destroys it, and counts every failure by its detail text. Sandboxes draw their config from a
// few distinct ones (different workspace lowers), as episodes of several tasks do, so that the
// zygote's spare sandbox is made, handed out and thrown away under load.
//
// Options: --rounds N (default 4), --concurrent N (sandboxes per round, default 64),
// --creators N (threads that create and destroy, default 16), --configs N (distinct configs,
// default 3), --verbose (one line per failure). Exit status: 0 when every sandbox worked, 1 otherwise.
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <algorithm>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <vector>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>

#include "sandbox/sandbox.h"

namespace {

using Clock = std::chrono::steady_clock;
namespace sb = swebox::sandbox;

struct Options {
  int rounds = 4;
  int concurrent = 64;
  int creators = 16;
  int configs = 3;
  bool verbose = false;
};

// Failure counts by "stage: detail", shared by every thread.
struct Tally {
  std::mutex mu;
  std::map<std::string, int> failures;
  int ok = 0, failed = 0;
  int dead_at_creation = 0;  // init was already gone when create returned
  std::vector<double> create_ms;

  void fail(const std::string& what, bool verbose) {
    std::lock_guard lock(mu);
    ++failures[what];
    if (verbose) fprintf(stderr, "soak: %s\n", what.c_str());
  }
};

// What /proc says about a process: "alive (S)", "zombie", or "gone".
std::string process_state(pid_t pid) {
  if (pid <= 0) return "no pid";
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(in, line)) return "gone";
  size_t close_paren = line.rfind(')');
  if (close_paren == std::string::npos || close_paren + 2 >= line.size()) return "unknown";
  char state = line[close_paren + 2];
  if (state == 'Z') return "zombie";
  return std::string("alive (") + state + ")";
}

pid_t init_pid_of(sb::Sandbox& box) {
  // merged_view() is /proc/<init>/root<workspace>; the native backend's only way to name init here.
  std::string v = box.merged_view();
  if (v.rfind("/proc/", 0) != 0) return -1;
  return atoi(v.c_str() + 6);
}

// One sandbox's life: create (pool) -> run + exec at once (io) -> files (pool) -> destroy (pool).
struct Life : std::enable_shared_from_this<Life> {
  boost::asio::io_context& io;
  boost::asio::thread_pool& pool;
  const sb::Config& config;
  Tally& tally;
  const Options& opt;
  std::function<void()> finished;
  std::unique_ptr<sb::Sandbox> box;
  pid_t init = -1;
  int pending = 0;
  bool bad = false;

  Life(boost::asio::io_context& io, boost::asio::thread_pool& pool, const sb::Config& config, Tally& tally,
       const Options& opt, std::function<void()> finished)
      : io(io), pool(pool), config(config), tally(tally), opt(opt), finished(std::move(finished)) {}

  void failure(const std::string& stage, const std::string& detail) {
    bad = true;
    std::string what = stage + ": " + detail;
    if (init > 0) what += " [init " + process_state(init) + "]";
    tally.fail(what, opt.verbose);
  }

  void start() {
    auto self = shared_from_this();
    boost::asio::post(pool, [self] { self->create(); });
  }

  void create() {
    auto t0 = Clock::now();
    try {
      box = sb::make_sandbox(io, config);
    } catch (const std::exception& e) {
      failure("create", e.what());
      return done();
    }
    double ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
    init = init_pid_of(*box);
    std::string state = process_state(init);
    {
      std::lock_guard lock(tally.mu);
      tally.create_ms.push_back(ms);
      if (state.rfind("alive", 0) != 0) ++tally.dead_at_creation;
    }
    if (state.rfind("alive", 0) != 0 && opt.verbose)
      fprintf(stderr, "soak: init %d is %s right after create\n", init, state.c_str());
    auto self = shared_from_this();
    boost::asio::post(io, [self] { self->use(); });
  }

  // The first tool calls of an episode: a session command and a fresh process, both in flight.
  void use() {
    auto self = shared_from_this();
    pending = 2;
    box->async_run("echo soak-run", 30, [self](sb::ExecResult r) {
      if (r.reason != sb::StopReason::exited || r.exit_code != 0 || r.out != "soak-run\n")
        self->failure("async_run", std::string(sb::to_string(r.reason)) + ": " + r.detail);
      self->used();
    });
    sb::ExecRequest req;
    req.argv = {"/bin/sh", "-c", "echo soak-exec"};
    req.timeout_s = 30;
    box->async_exec(req, [self](sb::ExecResult r) {
      if (r.reason != sb::StopReason::exited || r.exit_code != 0 || r.out != "soak-exec\n")
        self->failure("async_exec", std::string(sb::to_string(r.reason)) + ": " + r.detail);
      self->used();
    });
  }

  void used() {
    if (--pending) return;
    auto self = shared_from_this();
    boost::asio::post(pool, [self] { self->files_and_destroy(); });
  }

  void files_and_destroy() {
    if (auto e = box->write_file("soak.txt", "soak-file\n")) {
      failure("write_file", e->message);
    } else {
      auto r = box->read_file("soak.txt");
      if (auto* e = std::get_if<sb::FileError>(&r)) failure("read_file", e->message);
      else if (std::get<std::string>(r) != "soak-file\n") failure("read_file", "wrong content");
    }
    box->destroy();
    box.reset();
    done();
  }

  void done() {
    {
      std::lock_guard lock(tally.mu);
      if (bad) ++tally.failed;
      else ++tally.ok;
    }
    finished();
  }
};

int parse_int(const char* flag, const char* v) {
  char* end = nullptr;
  long n = v ? strtol(v, &end, 10) : 0;
  if (!v || *end || n <= 0) {
    fprintf(stderr, "soak: %s needs a positive integer\n", flag);
    exit(2);
  }
  return static_cast<int>(n);
}

}  // namespace

int main(int argc, char** argv) {
  Options opt;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    const char* v = i + 1 < argc ? argv[i + 1] : nullptr;
    if (a == "--rounds") opt.rounds = parse_int("--rounds", v), ++i;
    else if (a == "--concurrent") opt.concurrent = parse_int("--concurrent", v), ++i;
    else if (a == "--creators") opt.creators = parse_int("--creators", v), ++i;
    else if (a == "--configs") opt.configs = parse_int("--configs", v), ++i;
    else if (a == "--verbose") opt.verbose = true;
    else {
      fprintf(stderr, "soak: unknown option '%s' (see the top of scripts/soak_sandbox.cc)\n", a.c_str());
      return 2;
    }
  }
  signal(SIGPIPE, SIG_IGN);

  // Distinct configs: each its own workspace lower with one file, like one task's base tree.
  std::string base = std::filesystem::temp_directory_path() / ("swebox-soak-" + std::to_string(getpid()));
  std::vector<sb::Config> configs(opt.configs);
  for (int k = 0; k < opt.configs; ++k) {
    std::string dir = base + "/lower" + std::to_string(k);
    std::filesystem::create_directories(dir);
    std::ofstream(dir + "/README") << "config " << k << "\n";
    auto id = sb::workspace_lower_owner();
    if (geteuid() == 0) {
      chown(dir.c_str(), id.uid, id.gid);
      chown((dir + "/README").c_str(), id.uid, id.gid);
    }
    configs[k].workspace_lowers = {dir};
    configs[k].limits.memory_bytes = 512ull << 20;
  }

  boost::asio::io_context io;
  boost::asio::thread_pool pool(opt.creators);
  Tally tally;
  std::mt19937 rng(12345);
  auto t0 = Clock::now();
  for (int round = 0; round < opt.rounds; ++round) {
    auto work = boost::asio::make_work_guard(io);
    std::atomic<int> left{opt.concurrent};
    for (int i = 0; i < opt.concurrent; ++i) {
      const sb::Config& c = configs[rng() % configs.size()];
      auto life = std::make_shared<Life>(io, pool, c, tally, opt, [&] {
        if (--left == 0) boost::asio::post(io, [&] { work.reset(); });
      });
      life->start();
    }
    io.run();
    io.restart();
    std::lock_guard lock(tally.mu);
    fprintf(stderr, "soak: round %d/%d done: %d ok, %d failed so far (%.1f s)\n", round + 1, opt.rounds, tally.ok,
            tally.failed, std::chrono::duration<double>(Clock::now() - t0).count());
  }
  pool.join();
  std::filesystem::remove_all(base);

  std::sort(tally.create_ms.begin(), tally.create_ms.end());
  auto pct = [&](double p) {
    return tally.create_ms.empty() ? 0.0 : tally.create_ms[static_cast<size_t>(p * (tally.create_ms.size() - 1))];
  };
  printf("sandboxes: %d ok, %d failed (of %d); init already dead when create returned: %d\n", tally.ok, tally.failed,
         opt.rounds * opt.concurrent, tally.dead_at_creation);
  printf("create ms: p50 %.0f, p90 %.0f, max %.0f\n", pct(0.5), pct(0.9), pct(1.0));
  for (const auto& [what, n] : tally.failures) printf("%6d  %s\n", n, what.c_str());
  return tally.failed ? 1 : 0;
}
