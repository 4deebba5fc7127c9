// What a sandbox shows of the process that made it. The zygote is forked from the host process
// without an execve, so its argv and environment (and those of every sandbox's init and keepers,
// cloned from it) would be the host's: `swebox run --suite ... --repos ... --out ...` in
// /proc/1/cmdline, API keys in /proc/1/environ. The zygote wipes both at its start.
#pragma once

namespace swebox::sandbox::process_image {

// Zeroes the argv and environment strings in this process's memory, empties `environ`, and
// points the kernel's argv range at `name` and its environment range at nothing (PR_SET_MM_MAP:
// needs CAP_CHECKPOINT_RESTORE or CAP_SYS_ADMIN; without, /proc/PID/cmdline shows `name`
// followed by NUL bytes). Read what you need of the environment first.
void make_neutral(const char* name);

}  // namespace swebox::sandbox::process_image
