// cgroup v2: one unified hierarchy; a controller must be enabled in the parent's subtree_control.
#include <sstream>

#include "sandbox/cgroup.h"

namespace swebox::sandbox::cgroup::v2 {

std::string own_dir() { return own_dir(read_text("/proc/self/cgroup"), read_text("/proc/self/mountinfo")); }

std::string own_dir(const std::string& cgroup_text, const std::string& mountinfo_text) {
  std::istringstream in(mountinfo_text);
  std::string line, mountpoint, root;
  while (std::getline(in, line)) {
    if (line.find(" - cgroup2 ") == std::string::npos) continue;
    std::istringstream f(line);
    std::string id, parent, devno;
    f >> id >> parent >> devno >> root >> mountpoint;
    break;
  }
  if (mountpoint.empty()) return "";
  std::istringstream cg(cgroup_text);
  while (std::getline(cg, line)) {
    if (line.rfind("0::", 0) != 0) continue;
    std::string rel = line.substr(3);
    if (root != "/" && rel.rfind(root, 0) == 0) rel = rel.substr(root.size());
    if (rel == "/") rel = "";
    return mountpoint + rel;
  }
  return "";
}

bool enable_controller(const std::string& parent, const std::string& controller) {
  std::string enabled = read_text(parent + "/cgroup.subtree_control");
  std::istringstream in(enabled);
  std::string c;
  while (in >> c)
    if (c == controller) return true;
  return write_text(parent + "/cgroup.subtree_control", "+" + controller);
}

bool set_limits(const std::string& dir, const std::string& controller, const Limits& limits) {
  if (controller == "memory") {
    if (!limits.memory_bytes) return true;
    bool ok = write_text(dir + "/memory.max", std::to_string(limits.memory_bytes));
    write_text(dir + "/memory.swap.max", "0");
    return ok;
  }
  if (controller == "pids") return !limits.pids || write_text(dir + "/pids.max", std::to_string(limits.pids));
  if (controller == "cpu") {
    if (limits.cpus <= 0) return true;
    const long period = 100000;
    return write_text(dir + "/cpu.max", std::to_string(static_cast<long>(limits.cpus * period)) + " " +
                                            std::to_string(period));
  }
  return false;
}

std::string oom_events_file(const std::string& dir) { return dir + "/memory.events"; }

}  // namespace swebox::sandbox::cgroup::v2
