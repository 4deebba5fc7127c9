// The cleaner: a process beside the zygote that deletes the temp state dirs of dead sandboxes.
// Deleting is slow where it should not hold up the zygote's next sandbox: each rmdir on an ext4
// mounted with `discard` (as on these VMs) waits ~3.5 ms for the device, so a sandbox's state dir
// (upper/, work/work, work/, empty/, itself) takes ~15 ms. The cleaner drains its queue and exits
// when the zygote closes the queue (or dies).
#pragma once

#include <string>

namespace swebox::sandbox::cleaner {

// Zygote side: forks the cleaner. Returns the queue's fd, or -1 (then remove() deletes inline).
int start();

// Queues the directory `path` (and everything below it) for deletion; deletes it right here when
// the cleaner is gone.
void remove(int queue_fd, const std::string& path);

}  // namespace swebox::sandbox::cleaner
