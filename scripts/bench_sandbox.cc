// Sandbox benchmark, built and run by scripts/bench-sandbox.sh. Prints medians for:
//   - a fresh sandbox running `true` (create, run, destroy) against bwrap and `unshare` doing the same;
//   - one command (`true`) in a live session, against `docker exec` when a daemon answers;
//   - how many sandboxes, each with a live session, this machine holds at once.
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/io_context.hpp>

#include "sandbox/sandbox.h"

extern char** environ;

namespace {

using Clock = std::chrono::steady_clock;
namespace sb = swebox::sandbox;

double ms_since(Clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

// Runs argv to completion with stdio on /dev/null; returns the exit status (-1 when it could not run).
int run_quiet(const std::vector<std::string>& args) {
  std::vector<char*> argv;
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
  pid_t pid;
  int rc = posix_spawnp(&pid, argv[0], &fa, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  if (rc != 0) return -1;
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

// Median wall time of `n` runs of argv (ms), with `pace_ms` of idle time after each run (not
// counted); -1 when a run fails.
double time_command(const std::vector<std::string>& args, int n, int pace_ms = 0) {
  std::vector<double> t;
  for (int i = 0; i < n; ++i) {
    auto t0 = Clock::now();
    if (run_quiet(args) != 0) return -1;
    t.push_back(ms_since(t0));
    if (pace_ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(pace_ms));
  }
  return median(t);
}

std::string capture(const std::string& cmd) {
  std::string out;
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return out;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  pclose(p);
  while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
  return out;
}

struct Options {
  int fresh = 100;     // fresh sandboxes per tool
  int pace_ms = 20;    // idle time between paced requests
  int actions = 1000;  // commands in one live session
  int docker_execs = 100;
  int max_live = 256;
};

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string k = argv[i];
    int v = std::atoi(argv[i + 1]);
    if (k == "--fresh") o.fresh = v;
    else if (k == "--actions") o.actions = v;
    else if (k == "--docker-execs") o.docker_execs = v;
    else if (k == "--max-live") o.max_live = v;
    else if (k == "--pace-ms") o.pace_ms = v;
    else {
      std::fprintf(stderr, "bench_sandbox: unknown option %s (use --fresh N, --pace-ms MS, --actions N, --docker-execs N, --max-live N)\n",
                   argv[i]);
      std::exit(2);
    }
  }
  return o;
}

sb::Config bench_config(const std::string& workspace) {
  sb::Config c;
  c.workspace_lowers = {workspace};
  return c;
}

}  // namespace

int main(int argc, char** argv) {
  Options opt = parse(argc, argv);
  std::string ws = std::filesystem::temp_directory_path() / ("swebox-bench-ws-" + std::to_string(getpid()));
  std::filesystem::create_directories(ws);
  boost::asio::io_context io;
  std::printf("swebox sandbox benchmark: %u cores, kernel %s, load average %s\n", std::thread::hardware_concurrency(),
              capture("uname -r").c_str(), capture("cut -d' ' -f1-3 /proc/loadavg").c_str());

  // 1. A fresh sandbox running `true`, created and destroyed each time. Paced: one request every
  // pace_ms (the time between requests is not counted), as episodes arrive in a run, so that
  // the sandbox made ahead of time is ready; back to back: the next request right away, which
  // shows what sustained creation costs.
  struct Fresh {
    std::vector<double> total, create, exec, destroy;
    double wall_s = 0;
    std::string error;
  };
  // `vary`: each request with another config than the one before (two workspaces, alternately),
  // so that no sandbox can be made for it ahead of time; only its config-free part can.
  std::string ws2 = ws + "-b";
  std::filesystem::create_directories(ws2);
  auto fresh_run = [&](int n, int pace_ms, bool vary = false) {
    Fresh f;
    auto start = Clock::now();
    for (int i = 0; i < n + 3; ++i) {
      if (i == 3) start = Clock::now();
      auto t0 = Clock::now();
      double t_create = 0, t_exec = 0;
      try {
        auto s = sb::make_sandbox(io, bench_config(vary && i % 2 ? ws2 : ws));
        t_create = ms_since(t0);
        sb::ExecRequest req;
        req.argv = {"true"};
        sb::ExecResult r = s->exec(req);
        t_exec = ms_since(t0) - t_create;
        if (r.status() != 0) f.error = "exit " + std::to_string(r.status()) + ": " + r.err + " " + r.detail;
        s->destroy();
      } catch (const std::exception& e) {
        f.error = e.what();
        break;
      }
      if (i >= 3) {  // the first few warm caches
        f.total.push_back(ms_since(t0));
        f.create.push_back(t_create);
        f.exec.push_back(t_exec);
        f.destroy.push_back(f.total.back() - t_create - t_exec);
      }
      if (pace_ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(pace_ms));
    }
    f.wall_s = ms_since(start) / 1000;
    return f;
  };
  Fresh paced = fresh_run(opt.fresh, opt.pace_ms);
  Fresh burst = fresh_run(opt.fresh, 0);
  Fresh varied = fresh_run(opt.fresh, opt.pace_ms, true);
  double swebox_varied = varied.error.empty() ? median(varied.total) : -1;
  double swebox_fresh = paced.error.empty() ? median(paced.total) : -1;
  double swebox_burst = burst.error.empty() ? median(burst.total) : -1;
  std::string fresh_error = !paced.error.empty() ? paced.error : !burst.error.empty() ? burst.error : varied.error;

  // Peers with the same isolation: new user/mount/pid/net/ipc/uts namespaces, the host root
  // read-only, private /tmp, /proc and /dev, a writable workspace.
  std::vector<std::string> bwrap = {"bwrap", "--unshare-all", "--die-with-parent", "--new-session",
                                    "--ro-bind", "/", "/", "--tmpfs", "/tmp", "--proc", "/proc", "--dev", "/dev"};
  bool bwrap_overlay = capture("bwrap --help 2>&1").find("--overlay-src") != std::string::npos;
  if (bwrap_overlay) {
    for (const char* a : {"--overlay-src", ws.c_str(), "--tmp-overlay", "/tmp/testbed"}) bwrap.push_back(a);
  } else {
    for (const char* a : {"--bind", ws.c_str(), "/tmp/testbed"}) bwrap.push_back(a);
  }
  for (const char* a : {"--chdir", "/tmp/testbed", "true"}) bwrap.push_back(a);
  time_command(bwrap, 3);
  double bwrap_fresh = time_command(bwrap, opt.fresh, opt.pace_ms);
  auto bwrap_start = Clock::now();
  double bwrap_burst = time_command(bwrap, opt.fresh);
  double bwrap_burst_s = ms_since(bwrap_start) / 1000;
  std::vector<std::string> unshare = {"unshare", "-Urmpif", "--mount-proc", "true"};
  time_command(unshare, 3);
  double unshare_fresh = time_command(unshare, opt.fresh);

  // 2. One command in a live session.
  double action = -1, exec_action = -1, counted_action = -1;
  std::string action_error;
  try {
    auto s = sb::make_sandbox(io, bench_config(ws));
    for (int i = 0; i < 10; ++i) s->run("true", 10);
    std::vector<double> t;
    for (int i = 0; i < opt.actions; ++i) {
      auto t0 = Clock::now();
      sb::ExecResult r = s->run("true", 10);
      t.push_back(ms_since(t0));
      if (r.status() != 0) {
        action_error = "exit " + std::to_string(r.status()) + " " + r.detail;
        break;
      }
    }
    if (action_error.empty()) action = median(t);
    // The same round trip with a side effect, to show each call really ran in the one session.
    t.clear();
    s->run("n=0", 10);
    for (int i = 0; i < opt.actions; ++i) {
      auto t0 = Clock::now();
      s->run("n=$((n+1))", 10);
      t.push_back(ms_since(t0));
    }
    counted_action = median(t);
    std::string n = s->run("echo $n", 10).out;
    if (n != std::to_string(opt.actions) + "\n") action_error = "the session counted " + n + " commands, not " + std::to_string(opt.actions);
    t.clear();
    for (int i = 0; i < std::min(opt.actions, 200); ++i) {
      sb::ExecRequest req;
      req.argv = {"true"};
      auto t0 = Clock::now();
      s->exec(req);
      t.push_back(ms_since(t0));
    }
    exec_action = median(t);
  } catch (const std::exception& e) {
    action_error = e.what();
  }

  double docker = -1;
  std::string docker_note;
  if (run_quiet({"docker", "info"}) != 0) {
    docker_note = "skipped: no Docker daemon answers (scripts/start-dockerd.sh starts one)";
  } else {
    std::string image = std::getenv("SWEBOX_DOCKER_IMAGE") ? std::getenv("SWEBOX_DOCKER_IMAGE") : "swebox-busybox:latest";
    if (run_quiet({"docker", "image", "inspect", image}) != 0) {
      docker_note = "skipped: image " + image + " is missing (scripts/make-docker-image.sh builds it)";
    } else {
      std::string id = capture("docker run -d --rm --network none " + image + " sleep 3600 2>/dev/null");
      if (id.empty()) {
        docker_note = "skipped: docker run failed";
      } else {
        time_command({"docker", "exec", id, "true"}, 3);
        docker = time_command({"docker", "exec", id, "true"}, opt.docker_execs);
        run_quiet({"docker", "rm", "-f", id});
        docker_note = "median of " + std::to_string(opt.docker_execs) + " `docker exec <c> true` (" + image + ")";
      }
    }
  }

  // 3. Live sandboxes held at once, each with a session that has answered a command.
  std::vector<std::unique_ptr<sb::Sandbox>> live;
  std::string live_stop = "reached the target";
  auto t_live = Clock::now();
  for (int i = 0; i < opt.max_live; ++i) {
    try {
      auto s = sb::make_sandbox(io, bench_config(ws));
      sb::ExecResult r = s->run("echo live", 30);
      if (r.out != "live\n") {
        live_stop = "sandbox " + std::to_string(i + 1) + ": " + sb::to_string(r.reason) + " " + r.detail + " " + r.err;
        break;
      }
      live.push_back(std::move(s));
    } catch (const std::exception& e) {
      live_stop = "sandbox " + std::to_string(i + 1) + ": " + e.what();
      break;
    }
  }
  double live_s = ms_since(t_live) / 1000;
  size_t held = live.size();
  std::string mem = capture("free -m | awk '/Mem:/ {print $3 \" MiB used of \" $2}'");
  auto t_down = Clock::now();
  live.clear();
  double down_s = ms_since(t_down) / 1000;
  std::filesystem::remove_all(ws);
  std::filesystem::remove_all(ws2);

  auto cell = [](double v) {
    char buf[32];
    if (v < 0) return std::string("failed");
    std::snprintf(buf, sizeof buf, "%.2f ms", v);
    return std::string(buf);
  };
  std::printf("\n%-58s %s\n", "measure (median)", "value");
  std::printf("%-58s %s\n", "----------------------------------------------------------", "--------------");
  std::string paced_label = "paced, one every " + std::to_string(opt.pace_ms) + " ms";
  std::printf("%-58s %s\n", ("fresh sandbox + `true`: swebox (" + paced_label + ", n=" + std::to_string(opt.fresh) + ")").c_str(),
              cell(swebox_fresh).c_str());
  std::printf("%-58s %s / %s / %s\n", "  of which make_sandbox / exec `true` / destroy", cell(median(paced.create)).c_str(),
              cell(median(paced.exec)).c_str(), cell(median(paced.destroy)).c_str());
  std::printf("%-58s %s\n", (std::string("fresh sandbox + `true`: bwrap ") + (bwrap_overlay ? "(overlay, " : "(bind workspace, ") + paced_label + ")").c_str(),
              cell(bwrap_fresh).c_str());
  if (swebox_fresh > 0 && bwrap_fresh > 0)
    std::printf("%-58s %.2f (target <= 0.25)\n", "ratio swebox / bwrap (paced)", swebox_fresh / bwrap_fresh);
  std::printf("%-58s %s\n", "fresh sandbox + `true`: swebox, paced, config alternating", cell(swebox_varied).c_str());
  std::printf("%-58s %s / %s / %s\n", "  of which make_sandbox / exec `true` / destroy", cell(median(varied.create)).c_str(),
              cell(median(varied.exec)).c_str(), cell(median(varied.destroy)).c_str());
  if (swebox_varied > 0 && bwrap_fresh > 0)
    std::printf("%-58s %.2f\n", "ratio swebox / bwrap (paced, config alternating)", swebox_varied / bwrap_fresh);
  std::printf("%-58s %s (%.0f sandboxes/s)\n", "fresh sandbox + `true`: swebox, back to back", cell(swebox_burst).c_str(),
              burst.error.empty() && burst.wall_s > 0 ? opt.fresh / burst.wall_s : 0.0);
  std::printf("%-58s %s / %s / %s\n", "  of which make_sandbox / exec `true` / destroy", cell(median(burst.create)).c_str(),
              cell(median(burst.exec)).c_str(), cell(median(burst.destroy)).c_str());
  std::printf("%-58s %s (%.0f sandboxes/s)\n", "fresh sandbox + `true`: bwrap, back to back", cell(bwrap_burst).c_str(),
              bwrap_burst > 0 ? opt.fresh / bwrap_burst_s : 0.0);
  if (swebox_burst > 0 && bwrap_burst > 0)
    std::printf("%-58s %.2f\n", "ratio swebox / bwrap (back to back)", swebox_burst / bwrap_burst);
  std::printf("%-58s %s\n", "fresh sandbox + `true`: unshare -Urmpif --mount-proc", cell(unshare_fresh).c_str());
  std::printf("%-58s %s\n", ("`true` in a live session, Sandbox::run (n=" + std::to_string(opt.actions) + ")").c_str(),
              cell(action).c_str());
  std::printf("%-58s %s\n", "`n=$((n+1))` in the session (checked: n ends at the count)", cell(counted_action).c_str());
  std::printf("%-58s %s\n", "`true` as a fresh process beside it, Sandbox::exec", cell(exec_action).c_str());
  std::printf("%-58s %s\n", "`docker exec <container> true`", docker < 0 ? "-" : cell(docker).c_str());
  std::printf("%-58s %zu of %d (%.1f s to start, %.1f s to destroy; %s)\n", "live sandboxes held at once",
              held, opt.max_live, live_s, down_s, mem.c_str());
  std::printf("\nnotes:\n  load average at the end: %s (other work on this machine skews every number)\n",
              capture("cut -d' ' -f1-3 /proc/loadavg").c_str());
  if (!fresh_error.empty()) std::printf("  swebox fresh sandbox failed: %s\n", fresh_error.c_str());
  if (!action_error.empty()) std::printf("  swebox session failed: %s\n", action_error.c_str());
  std::printf("  docker: %s\n", docker_note.c_str());
  std::printf("  live sandboxes: stopped because: %s\n", live_stop.c_str());
  if (!bwrap_overlay) std::printf("  bwrap %s has no --overlay-src; it binds the workspace instead\n",
                                  capture("bwrap --version").c_str());
  return 0;
}
