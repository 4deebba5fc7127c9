// Picks, per controller, the hierarchy that has it, and makes the sandbox's cgroup there.
#include "sandbox/cgroup.h"

#include <algorithm>
#include <cerrno>
#include <dirent.h>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <map>
#include <mutex>
#include <sys/stat.h>
#include <thread>
#include <unistd.h>

namespace swebox::sandbox::cgroup {

namespace {

// Where each controller lives, looked up once per process: reading mountinfo and the cgroup
// files for every sandbox costs more than making its cgroups.
struct Place {
  bool v2 = false;
  std::string base;  // the hierarchy's dir of our own cgroup; "" when the controller is missing
};

const std::map<std::string, Place>& places() {
  static std::mutex mu;
  static std::map<std::string, Place> cache;
  std::lock_guard lock(mu);
  if (!cache.empty()) return cache;
  // Each file read once (each read of a /proc file is a few tens of microseconds in a VM).
  const std::string cgroup_text = read_text("/proc/self/cgroup"), mountinfo_text = read_text("/proc/self/mountinfo");
  std::string v2_base = v2::own_dir(cgroup_text, mountinfo_text);
  const std::string v2_controllers = v2_base.empty() ? "" : read_text(v2_base + "/cgroup.controllers");
  for (const std::string controller : {"memory", "pids", "cpu"}) {
    Place p;
    // v2 first: it is where the kernel is going; v1 where the controller lives there.
    if (!v2_base.empty() && v2_controllers.find(controller) != std::string::npos &&
        v2::enable_controller(v2_base, controller)) {
      p = {true, v2_base};
    } else {
      p = {false, v1::own_dir(controller, cgroup_text, mountinfo_text)};
    }
    cache[controller] = p;
  }
  return cache;
}

}  // namespace

Group create(const std::string& name, const Limits& limits, std::string* note) {
  Group g;
  std::vector<std::string> missing;
  std::string v2_dir;
  auto in_v2 = [&](const Place& place) -> std::string {
    if (!place.v2) return "";
    if (v2_dir.empty()) {
      std::string dir = place.base + "/" + name;
      if (mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) return "";
      v2_dir = dir;
      g.dirs.push_back(dir);
    }
    return v2_dir;
  };
  for (const std::string controller : {"memory", "pids", "cpu"}) {
    bool ok = false;
    const Place& place = places().at(controller);
    std::string dir = in_v2(place);
    if (!dir.empty()) {
      ok = v2::set_limits(dir, controller, limits);
      if (ok && controller == "memory") {
        g.oom_events_fd = open(v2::oom_events_file(dir).c_str(), O_RDONLY | O_CLOEXEC);
      }
    } else {
      const std::string& base = place.base;
      if (!place.v2 && !base.empty()) {
        dir = base + "/" + name;
        if (mkdir(dir.c_str(), 0755) == 0 || errno == EEXIST) {
          g.dirs.push_back(dir);
          ok = v1::set_limits(dir, controller, limits);
          if (ok && controller == "memory")
            g.oom_events_fd = open(v1::oom_events_file(dir).c_str(), O_RDONLY | O_CLOEXEC);
        }
      }
    }
    if (controller == "memory") g.memory = ok;
    if (controller == "pids") g.pids = ok;
    if (controller == "cpu") g.cpu = ok;
    if (!ok) missing.push_back(controller);
    if (ok) {
      size_t index = std::find(g.dirs.begin(), g.dirs.end(), dir) - g.dirs.begin();
      g.controllers.push_back({controller, index, place.v2});
    }
  }
  if (!missing.empty() && note) {
    std::string list;
    for (auto& m : missing) list += (list.empty() ? "" : ", ") + m;
    *note = "cgroups unavailable for " + list + " (" +
            (geteuid() == 0 ? "controller not found or not writable" : "not root and no delegated cgroup") +
            "): those limits are not enforced by cgroups; rlimits stand in for memory (RLIMIT_DATA, address "
            "space) and pids (RLIMIT_NPROC), nothing for cpu";
  }
  return g;
}

bool apply_limits(const Group& group, const Limits& limits) {
  bool ok = true;
  for (const auto& c : group.controllers) {
    if (c.dir >= group.dirs.size()) continue;
    const std::string& dir = group.dirs[c.dir];
    ok &= c.v2 ? v2::set_limits(dir, c.name, limits) : v1::set_limits(dir, c.name, limits);
  }
  return ok;
}

std::vector<int> open_procs(const Group& group, std::string* error) {
  std::vector<int> fds;
  for (const auto& dir : group.dirs) {
    // A v1 hierarchy's `tasks` (which v2 has not): writing "0" there moves the writing thread
    // alone, which the kernel does without the global threadgroup lock, whose first writer waits
    // for an RCU grace period (one to several scheduler ticks: 4 to 20 ms on a 2-core VM) where
    // "0" in cgroup.procs takes it. The sandbox's first process is single-threaded, so the thread
    // is the whole process.
    int fd = open((dir + "/tasks").c_str(), O_WRONLY | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT) fd = open((dir + "/cgroup.procs").c_str(), O_WRONLY | O_CLOEXEC);
    if (fd < 0) {
      *error = "opening the process list of " + dir + ": " + strerror(errno);
      for (int f : fds) close(f);
      return {};
    }
    fds.push_back(fd);
  }
  return fds;
}

int attach_self(const std::vector<int>& procs) {
  int rc = 0;
  for (int fd : procs) {
    // "0" is the writer itself.
    if (rc == 0 && write(fd, "0", 1) != 1) rc = -errno;
    close(fd);
  }
  return rc;
}

void remove(Group& group) {
  if (group.oom_events_fd >= 0) close(group.oom_events_fd);
  group.oom_events_fd = -1;
  for (const auto& dir : group.dirs) {
    // The last processes may still be leaving the group for a moment after the sandbox was reaped;
    // anything that stays is killed (nothing in a sandbox's cgroup may outlive it).
    for (int attempt = 0; attempt < 500; ++attempt) {
      if (rmdir(dir.c_str()) == 0 || errno == ENOENT) break;
      if (errno != EBUSY) break;
      if (attempt % 10 == 9) {
        std::string procs = read_text(dir + "/cgroup.procs");
        for (size_t i = 0; i < procs.size();) {
          size_t nl = procs.find('\n', i);
          if (nl == std::string::npos) nl = procs.size();
          pid_t pid = atoi(procs.substr(i, nl - i).c_str());
          if (pid > 0) kill(pid, SIGKILL);
          i = nl + 1;
        }
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
  }
  group.dirs.clear();
}

std::vector<std::string> parent_dirs() {
  std::vector<std::string> bases;
  for (const auto& [controller, place] : places())
    if (!place.base.empty() && std::find(bases.begin(), bases.end(), place.base) == bases.end())
      bases.push_back(place.base);
  return bases;
}

void remove_stale(const std::vector<std::string>& bases) {
  for (const auto& base : bases) {
    DIR* d = opendir(base.c_str());
    if (!d) continue;
    while (dirent* e = readdir(d)) {
      const char* name = e->d_name;
      if (strncmp(name, "swebox-", 7) != 0) continue;
      char* end = nullptr;
      long pid = strtol(name + 7, &end, 10);
      if (pid <= 0 || end == name + 7 || *end != '-') continue;
      if (kill(static_cast<pid_t>(pid), 0) == 0 || errno != ESRCH) continue;  // its maker lives
      rmdir((base + "/" + name).c_str());
    }
    closedir(d);
  }
}

uint64_t oom_kills(int fd) {
  if (fd < 0) return 0;
  char buf[1024];
  ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
  if (n <= 0) return 0;
  buf[n] = 0;
  const char* p = strstr(buf, "oom_kill ");
  return p ? strtoull(p + 9, nullptr, 10) : 0;
}

}  // namespace swebox::sandbox::cgroup
