// The system-call filter every sandboxed command runs under (policy: sandbox/SECCOMP.md).
#pragma once

#include <linux/filter.h>
#include <vector>

namespace swebox::sandbox::seccomp_policy {

// Parent side: the policy as a BPF program: the one built in, else compiled once (libseccomp
// does the compiling). Throws SandboxError when libseccomp fails.
const std::vector<sock_filter>& program();

// Compiles the policy now (the build-time exporter; program() when nothing is built in).
std::vector<sock_filter> compile();
// The program compiled at build time (seccomp_built_in.cc), or empty.
std::vector<sock_filter> built_in();

// Child side, last thing before execve: sets no_new_privs and loads the program. Async-signal-safe.
// Returns 0 or -errno.
int apply(const std::vector<sock_filter>& prog);

}  // namespace swebox::sandbox::seccomp_policy
