// The zygote: one single-threaded helper process per host process, forked on first use, that
// makes and tears down native sandboxes. It exists because cloning into new namespaces from a
// multi-threaded host is unsafe (locks held by other threads), and because a small process that
// already compiled the seccomp program and looked up the cgroup hierarchies makes sandboxes fast.
// The host talks to it over a socket; each request carries its own reply socket. When the host
// process goes away, the zygote tears every sandbox down and exits.
//
// Work is done ahead of requests: a "shell" (namespaces, cgroups, network namespace, temp state
// dir: all but the config) is kept ready once sandboxes are asked for, and when a config repeats,
// a whole "spare" sandbox for it, pushed to the host on a second socket so that create() takes it
// without a round trip. Builds are asynchronous: many can be under way at once.
#pragma once

#include <cstdint>
#include <string>
#include <sys/types.h>

#include "sandbox/sandbox.h"

namespace swebox::sandbox::zygote {

struct Created {
  uint64_t id = 0;
  pid_t init_pid = -1;  // in the host's pid namespace
  int control_fd = -1;  // the socket to the sandbox's init (owned by the caller)
  std::string upper_dir;
  std::string note;  // degraded isolation, if any (e.g. no cgroups)
  // A single sandbox (make_single_sandbox) comes while it is still being set up: its report
  // ("R" ready, or "E" and why it failed; EOF if it died) is to be read here. -1: it is ready.
  int starting_fd = -1;
};

// Host side; thread-safe. Throws SandboxError with the reason when the sandbox cannot be made.
Created create(const Config& config);
// Kills everything in the sandbox and removes its cgroups, mounts and temp dirs; takes (and
// closes) the sandbox's control socket. With `wait`, returns when all is done; without, as soon
// as the request is sent (the zygote kills and cleans up on its own).
void destroy(uint64_t id, int control_fd, bool wait);
// Tears down every sandbox made ahead of time; none is made again until a config repeats.
void release_spares();
// Says that this process makes a single sandbox (a one-shot command): nothing is made ahead of
// requests, and while no zygote runs, the process makes its sandboxes itself, with no zygote
// process (zygote_process.h, create_direct: the caller must be single-threaded). Host side;
// before the first create.
void make_single_sandbox();
// Starts the zygote now, if it is not running (host side; thread-safe).
void start();

}  // namespace swebox::sandbox::zygote
