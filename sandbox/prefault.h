// Page-table warm-up for processes made ahead of time (a sandbox's init, a command's waiting
// process). fork copies no page-table entries of file mappings, so a forked process takes a
// page fault on the first run of every code page it uses: several microseconds each in a VM,
// some twenty on the way from a request to execve. Done while the process is idle, those faults
// are off the critical path. (Writable pages are left alone: populating them would copy, among
// others, every stack of a multi-threaded host the zygote was forked from.)
#pragma once

namespace swebox::sandbox::prefault {

// Maps in the read-only segments (code, constants) of the program and its libraries.
void code();

}  // namespace swebox::sandbox::prefault
