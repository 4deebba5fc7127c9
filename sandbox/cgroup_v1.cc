// cgroup v1: one hierarchy per controller, each mounted on its own (/sys/fs/cgroup/memory, ...).
#include <fstream>
#include <sstream>

#include "sandbox/cgroup.h"

namespace swebox::sandbox::cgroup::v1 {

namespace {
// Our path in the hierarchy that has `controller`, from /proc/self/cgroup ("4:memory:/a/b").
std::string own_path(const std::string& controller, const std::string& cgroup_text) {
  std::istringstream in(cgroup_text);
  std::string line;
  while (std::getline(in, line)) {
    auto a = line.find(':'), b = line.find(':', a + 1);
    if (a == std::string::npos || b == std::string::npos) continue;
    std::string list = line.substr(a + 1, b - a - 1);
    std::istringstream names(list);
    std::string n;
    while (std::getline(names, n, ','))
      if (n == controller) return line.substr(b + 1);
  }
  return "";
}
}  // namespace

std::string own_dir(const std::string& controller) {
  return own_dir(controller, read_text("/proc/self/cgroup"), read_text("/proc/self/mountinfo"));
}

std::string own_dir(const std::string& controller, const std::string& cgroup_text, const std::string& mountinfo_text) {
  std::string path = own_path(controller, cgroup_text);
  if (path.empty()) return "";
  // Find the v1 mount carrying the controller in its super options (mountinfo field after " - ").
  std::istringstream in(mountinfo_text);
  std::string line;
  while (std::getline(in, line)) {
    auto dash = line.find(" - cgroup ");
    if (dash == std::string::npos) continue;
    std::istringstream opts(line.substr(line.rfind(' ') + 1));
    std::string o;
    bool has = false;
    while (std::getline(opts, o, ',')) has |= (o == controller);
    if (!has) continue;
    std::istringstream f(line);
    std::string id, parent, devno, root, mountpoint;
    f >> id >> parent >> devno >> root >> mountpoint;
    // The mount may show a sub-tree (root != "/"), as inside a container.
    std::string rel = path;
    if (root != "/" && rel.rfind(root, 0) == 0) rel = rel.substr(root.size());
    if (rel == "/") rel = "";
    return mountpoint + rel;
  }
  return "";
}

bool set_limits(const std::string& dir, const std::string& controller, const Limits& limits) {
  if (controller == "memory") {
    if (!limits.memory_bytes) return true;
    bool ok = write_text(dir + "/memory.limit_in_bytes", std::to_string(limits.memory_bytes));
    // No swapping past the limit (the file exists only with swap accounting).
    write_text(dir + "/memory.memsw.limit_in_bytes", std::to_string(limits.memory_bytes));
    return ok;
  }
  if (controller == "pids") return !limits.pids || write_text(dir + "/pids.max", std::to_string(limits.pids));
  if (controller == "cpu") {
    if (limits.cpus <= 0) return true;
    const long period = 100000;
    return write_text(dir + "/cpu.cfs_period_us", std::to_string(period)) &&
           write_text(dir + "/cpu.cfs_quota_us", std::to_string(static_cast<long>(limits.cpus * period)));
  }
  return false;
}

std::string oom_events_file(const std::string& memory_dir) { return memory_dir + "/memory.oom_control"; }

}  // namespace swebox::sandbox::cgroup::v1
