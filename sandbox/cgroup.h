// Memory, pids and CPU limits through cgroups. Each controller is looked up on its own: on a
// hybrid host (v1 controllers beside a cgroup2 mount) one sandbox may use both hierarchies.
// Parent side: create, attach, remove. Init side: read the OOM-kill counter through an open fd.
#pragma once

#include "sandbox/kernel_files.h"

#include <cstdint>
#include <string>
#include <sys/types.h>
#include <vector>

#include "sandbox/sandbox.h"

namespace swebox::sandbox::cgroup {

struct Group {
  std::vector<std::string> dirs;  // every cgroup directory made for the sandbox (attach + remove)
  int oom_events_fd = -1;         // v1 memory.oom_control or v2 memory.events, for oom_kills()
  bool memory = false, pids = false, cpu = false;  // which limits are enforced
  struct Controller {
    std::string name;  // memory, pids, cpu
    size_t dir;        // its index in dirs
    bool v2;
  };
  std::vector<Controller> controllers;  // those enforced, for apply_limits
};

// Makes the sandbox's cgroups named `name` with the limits. What could not be enforced is
// described in *note (empty when everything is).
Group create(const std::string& name, const Limits& limits, std::string* note);
// Writes the limits into the group's cgroups (for a group made before its limits were known).
// False when a write failed.
bool apply_limits(const Group& group, const Limits& limits);
// Parent side: opens every cgroup's process list for writing (v1: its thread list), so that a
// single-threaded child can move itself in (attach_self) with no privilege of its own: the kernel
// checks the opener's credentials.
// Empty with *error set on failure.
std::vector<int> open_procs(const Group& group, std::string* error);
// Child side: moves the calling process (single-threaded) into every cgroup (fds from open_procs,
// then closed).
// Returns 0 or -errno.
int attach_self(const std::vector<int>& procs);

// Removes the directories (they must be empty of processes) and closes the fd.
void remove(Group& group);
// The directories our sandboxes' cgroups are made in (one per hierarchy in use).
std::vector<std::string> parent_dirs();
// Removes the cgroups of sandboxes whose maker died without removing them (killed with SIGKILL):
// the empty "swebox-<pid>-..." dirs in `parents` (from parent_dirs) whose <pid> is not a live
// process. A cgroup with processes in it cannot be removed, so nothing running is touched.
void remove_stale(const std::vector<std::string>& parents);
// How many processes the OOM killer killed in the group so far (0 when unknown).
uint64_t oom_kills(int oom_events_fd);

// One hierarchy's side of the work (cgroup_v1.cc, cgroup_v2.cc).
namespace v1 {
// The directory of our own cgroup for `controller` in its v1 hierarchy, or "" if not mounted.
std::string own_dir(const std::string& controller);
// The same from the texts of /proc/self/cgroup and /proc/self/mountinfo, read once by the caller.
std::string own_dir(const std::string& controller, const std::string& cgroup_text, const std::string& mountinfo_text);
bool set_limits(const std::string& dir, const std::string& controller, const Limits& limits);
std::string oom_events_file(const std::string& memory_dir);
}  // namespace v1
namespace v2 {
// Our own cgroup's directory in the cgroup2 hierarchy, or "" if none is mounted.
std::string own_dir();
std::string own_dir(const std::string& cgroup_text, const std::string& mountinfo_text);
// Makes sure `controller` can be used by children of `parent` (enables it in subtree_control).
bool enable_controller(const std::string& parent, const std::string& controller);
bool set_limits(const std::string& dir, const std::string& controller, const Limits& limits);
std::string oom_events_file(const std::string& dir);
}  // namespace v2

// Shared by both hierarchies.
using sandbox::read_text;
using sandbox::write_text;

}  // namespace swebox::sandbox::cgroup
