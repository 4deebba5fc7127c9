// What a sandbox's first process does to itself, from the clone into its new namespaces until it
// is the sandbox's init (as nsjail's "contain"). Runs in the child of the zygote's clone.
#pragma once

#include <vector>

#include "sandbox/cgroup.h"

namespace swebox::sandbox::contain {

// Closes every fd but 0, 1, 2 and `keep` (nothing of the zygote's may stay open in a sandbox:
// another sandbox's control socket held here would keep its init alive past the host's close).
void close_all_but(std::vector<int> keep);

// Joins its cgroups (through `procs`, opened by the zygote), makes its network namespace, waits
// for its assignment on `assign` (config, state dir, idmapped lowers), mounts its view, reports
// "R" or "E<why>" on `ready`, then serves the host on `ctl` as init. Never returns.
// `made_ahead`: the sandbox is made before a request asks for it (init then warms up while idle).
// `own_host_uid`: the sandbox runs as a host uid of its own (the host is root), so nothing but the
// root host needs init's /proc files, and init is made non-dumpable (below).
[[noreturn]] void run(const cgroup::Group& group, const std::vector<int>& procs, int ctl, int ready, int assign,
                      bool made_ahead, bool own_host_uid);

}  // namespace swebox::sandbox::contain
