// Page-table warm-up for processes made ahead of time (a sandbox's init, a command's waiting
// process). fork copies no page-table entries of file mappings, so a forked process takes a
// page fault on the first run of every code page it uses (and on every shared page it first
// writes): several microseconds each in a VM, some thirty on the way from a request to execve.
// Done while the process is idle, those faults are off the critical path.
#pragma once

namespace swebox::sandbox::prefault {

// Maps in the read-only segments (code, constants) of the program and its libraries.
void code();

// Makes every private writable page (heap, stack, data) this process's own now, instead of at
// its first write (copy-on-write after fork). Costs a copy of them: for long-lived processes.
void writable();

}  // namespace swebox::sandbox::prefault
