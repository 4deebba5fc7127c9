// The zygote process itself (see zygote.h for what it is and the host's side): serves requests
// from its host on `host_fd` and pushes sandboxes made ahead on `spares_fd`; exits (tearing every
// sandbox down) when the host goes away. Without `make_ahead` (a host that makes one sandbox), it
// makes nothing ahead of requests.
#pragma once

#include <cstdint>

#include "sandbox/zygote.h"

namespace swebox::sandbox::zygote {

[[noreturn]] void serve(int host_fd, int spares_fd, bool make_ahead);

// A host that makes a single sandbox (a one-shot command, make_single_sandbox) makes it itself:
// the zygote's work, done in the calling process, without the zygote process (a fork, and in a
// VM its copy-on-write faults: a quarter of a one-shot command's CPU). The caller must be
// single-threaded. What the zygote would do after its host is gone (kill the sandbox, remove its
// cgroups and temp dirs, give its host uid back) is done by a small process that shares the
// caller's memory (clone(CLONE_VM): nothing to copy) and waits for destroy_direct(wait) or the
// caller's exit. Throws SandboxError with the reason when the sandbox cannot be made.
Created create_direct(const Config& config);
// Kills the sandbox now. With `wait`, returns once its teardown is done; without, the teardown
// follows the caller's exit. Takes (and closes) the control socket.
void destroy_direct(uint64_t id, int control_fd, bool wait);

}  // namespace swebox::sandbox::zygote
