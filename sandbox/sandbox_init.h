// The sandbox's init: pid 1 of the sandbox, inside all its namespaces. It serves the host's
// requests (commands, the shell session, file operations, reset) over a socket, enforces timeouts
// and output caps, and reaps. Each request arrives with its own reply socket, so any number can be
// in flight; a single poll loop serves them all.
#pragma once

#include <linux/filter.h>
#include <string>
#include <vector>

#include "sandbox/mounts.h"
#include "sandbox/sandbox.h"

namespace swebox::sandbox::init {

struct Setup {
  const Config* config = nullptr;
  const mounts::Plan* plan = nullptr;
  int control_fd = -1;      // requests from the host (each with a reply socket attached)
  int oom_events_fd = -1;   // the memory cgroup's event counters, or -1
  bool memory_cgroup = false;
  bool pids_cgroup = false;
  const std::vector<sock_filter>* seccomp = nullptr;
  bool made_ahead = true;  // false: a request already waits (no idle time to warm up in)
  bool own_host_uid = false;  // the sandbox has a host uid of its own (init is not dumpable)
};

// Runs after the filesystem was built; returns only by exiting.
[[noreturn]] void serve(const Setup& setup);

// The default environment of every command (PATH, HOME, LANG, ...) plus Config::env.
std::vector<std::string> command_environment(const Config& config);

// The shell loop of a session: reads NUL-terminated commands on fd 3, runs each with eval in the
// shell itself (so cd, exports and functions persist), writes its status NUL-terminated on fd 4.
extern const char* const kSessionLoop;

}  // namespace swebox::sandbox::init
