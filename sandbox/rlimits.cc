// rlimits complement the cgroup limits (and are all there is where cgroups are unavailable).
// A hard limit can only be lowered, so each wanted value is clamped to the current hard limit.
#include <sys/resource.h>

#include "sandbox/identity.h"

namespace swebox::sandbox::rlimits {

namespace {
void set_clamped(int resource, rlim_t wanted) {
  rlimit cur;
  if (getrlimit(resource, &cur) != 0) return;
  if (cur.rlim_max != RLIM_INFINITY && wanted > cur.rlim_max) wanted = cur.rlim_max;
  rlimit next{wanted, wanted};
  setrlimit(resource, &next);
}
}  // namespace

void apply(const Limits& limits, bool memory_cgroup, bool pids_cgroup) {
  if (limits.file_size_bytes) set_clamped(RLIMIT_FSIZE, limits.file_size_bytes);
  if (limits.open_files) set_clamped(RLIMIT_NOFILE, limits.open_files);
  set_clamped(RLIMIT_CORE, 0);
  // Without a memory cgroup, address space is the only memory bound left; a generous multiple,
  // because virtual size overstates use (runtimes reserve large arenas).
  if (limits.memory_bytes && !memory_cgroup) set_clamped(RLIMIT_DATA, limits.memory_bytes * 2);
  // Without a pids cgroup, RLIMIT_NPROC bounds the sandbox user's processes: the kernel (5.14+)
  // counts them per user namespace, so only this sandbox's, and the command has no capability
  // that would exempt it.
  if (limits.pids && !pids_cgroup) set_clamped(RLIMIT_NPROC, limits.pids);
}

}  // namespace swebox::sandbox::rlimits
