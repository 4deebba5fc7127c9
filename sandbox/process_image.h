// What a sandbox shows of the process that made it. The zygote is forked from the host process
// without an execve, so its argv and environment (and those of every sandbox's init and keepers,
// cloned from it) would be the host's: `swebox run --suite ... --repos ... --out ...` in
// /proc/1/cmdline, API keys in /proc/1/environ. The zygote wipes both at its start.
#pragma once

#include <sys/types.h>

namespace swebox::sandbox::process_image {

// Where this process's argv, environment and other ranges are (/proc/self/stat and auxv), read
// ahead: a child forked after it has the same layout, and then need not read /proc on its way
// (a quarter of a millisecond in a VM, on a one-shot sandbox's critical path).
struct Layout {
  bool ok = false;
  unsigned long start_code = 0, end_code = 0, start_stack = 0, start_data = 0, end_data = 0, start_brk = 0;
  unsigned long arg_start = 0, arg_end = 0, env_start = 0, env_end = 0;
  unsigned long auxv[256] = {};
  ssize_t auxv_size = -1;
};
Layout read_layout();

// Zeroes the argv and environment strings in this process's memory, empties `environ`, and
// points the kernel's argv range at `name` and its environment range at nothing (PR_SET_MM_MAP:
// needs CAP_CHECKPOINT_RESTORE or CAP_SYS_ADMIN; without, /proc/PID/cmdline shows `name`
// followed by NUL bytes). Read what you need of the environment first. `layout`: read_layout()'s,
// by this process or by the one it was forked from.
void make_neutral(const char* name, const Layout& layout);
inline void make_neutral(const char* name) { make_neutral(name, read_layout()); }

}  // namespace swebox::sandbox::process_image
