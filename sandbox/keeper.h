// A command runs under a "keeper": pid 1 of a nested pid namespace (with its own /proc), made by
// init for each exec and for each shell session. Killing the keeper kills everything the command
// started, setsid'd or double-forked daemons included, because a pid namespace dies with its
// first process. The keeper reports the command's wait status, then exits.
//
// Keepers are made ahead of their commands ("slots"): the namespace clone, the /proc mount, the
// command's process (sharing the keeper's memory until its execve), dropping its capabilities and
// loading its seccomp filter all happen before the command is known. The slot's command process
// then waits for argv, cwd and fds, and only chdir + execve remain when a command arrives. Once
// the command ended, the keeper kills and reaps what it left, reports, and exits.
#pragma once

#include <linux/filter.h>
#include <string>
#include <sys/types.h>
#include <vector>

#include "sandbox/sandbox.h"

namespace swebox::sandbox::keeper {

// What every command of one sandbox shares.
struct Common {
  std::vector<std::string> env;  // "NAME=value"
  const Limits* limits = nullptr;
  bool memory_cgroup = false;
  bool pids_cgroup = false;
  const std::vector<sock_filter>* seccomp = nullptr;
  // The keeper's pid namespace only: the command shares init's mount namespace and /proc (which
  // shows init's namespace). For a single sandbox with a scratch workspace and a non-dumpable
  // init: no layers to hide, nothing of init's readable, and the copy of the mount table and the
  // /proc mount (with their teardown) are a tenth of a one-shot command's time in a VM.
  bool share_mounts = false;
  // The command's process takes the page faults its launch would take while it waits (a sandbox
  // made ahead, idle until asked). Off for a single sandbox, whose request is already on its way:
  // its launch touches far fewer pages than the warm-up would.
  bool warm_up = true;
};

struct Command {
  std::vector<std::string> argv;
  std::string cwd;
  std::vector<int> fds;  // become fds 0, 1, 2, ... of the command (at most 8)
};

struct Handle {
  pid_t pid = -1;      // the keeper, in init's pid namespace
  int status_fd = -1;  // readable once the command and all it started are gone: its wait status (int)
};

// A keeper waiting for its command.
struct Slot {
  Handle keeper;
  int launch_fd = -1;  // where the command goes
};

// Init side. Returns the slot, or one with pid -1 and *error set. `common` must outlive it.
Slot prepare(const Common& common, std::string* error);

// Init side: hands the command to the slot, which becomes the command's keeper. Returns false
// (with *error) when the slot's processes are gone; the caller then discards it.
bool launch(Slot& slot, const Command& command, std::string* error);

// Init side: kills an unused slot and closes its fds (the caller reaps the keeper).
void discard(Slot& slot);

// Init side, a single sandbox's one command (Common::share_mounts): no keeper. The command is a
// child of init in init's pid namespace (init is its pid 1, so killing everything but init ends
// what the command started); init reaps it, and takes its wait status from waitpid. A keeper costs
// a process (a fork, its copy-on-write faults, its exit) and a wake-up on the way to the command
// and back. Returns the command's pid (status_fd -1), or pid -1 with *error set.
Handle start_unkept(const Common& common, Command command, std::string* error);

}  // namespace swebox::sandbox::keeper
