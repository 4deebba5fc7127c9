// Who the sandbox runs as: the user namespace's id maps (parent side), the switch to the sandbox
// user (init side), dropping every capability and setting rlimits (command side, before execve).
#pragma once

#include <string>
#include <sys/types.h>

#include "sandbox/sandbox.h"

namespace swebox::sandbox {

namespace user_ns {
// Parent side: maps kSandboxUid/Gid inside to `host` outside (the sandbox's own host uid, or the
// caller's ids when unprivileged), for the child `pid` that was cloned into a new user namespace.
// Returns "" or an error message.
std::string write_id_maps(pid_t pid, HostIdentity host);
// Child side (right after the maps were written): become uid/gid 1000 inside while keeping every
// capability of the new namespace. Returns 0 or -errno.
int become_sandbox_user();
}  // namespace user_ns

namespace caps {
// Command side: empties the bounding, ambient, inheritable, permitted and effective sets.
// Async-signal-safe. Returns 0 or -errno.
int drop_all();
// Init side: lower / raise the effective set around file operations done for the agent, so
// that they get exactly the sandbox user's permissions.
int set_effective(bool on);
}  // namespace caps

namespace rlimits {
// Command side: applies the Limits' rlimits (and no core dumps), each clamped to the current hard
// limit; RLIMIT_DATA and RLIMIT_NPROC stand in for the memory and pids limits only where no
// cgroup enforces them. Async-signal-safe.
void apply(const Limits& limits, bool memory_cgroup, bool pids_cgroup);
}  // namespace rlimits

}  // namespace swebox::sandbox
