// build/swebox, the command people script with: a small front that runs `swebox sandbox ...`
// itself and hands every other command (and --help, --version) to the full program (swebox-all,
// beside it) by execve.
// Why: the full program links libgit2 and its fifteen libraries (Kerberos, TLS, SSH ...), whose
// loading and relocation alone cost ~2.5 ms per process; a one-shot sandbox should not pay that.
// The other commands pay one small exec (~1 ms) in runs that last seconds to hours.
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstring>
#include <string>

#include "sandbox/prefault.h"
#include "sandbox/text_encoding.h"

int cmd_sandbox(int argc, char** argv);

namespace {

// The directory this executable was started from, resolved through /proc/self/exe.
std::string own_dir() {
  char path[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", path, sizeof path - 1);
  if (n <= 0) return ".";
  path[n] = 0;
  char* slash = std::strrchr(path, '/');
  if (!slash) return ".";
  *slash = 0;
  return path;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc >= 2 && !std::strcmp(argv[1], "sandbox")) {
    // The code it will run mapped in at once (one call) rather than fault by fault: each fault
    // traps to the hypervisor in a VM (~0.3 ms of a one-shot command; scripts/bench-cli.sh).
    swebox::sandbox::prefault::code();
    // As swebox-all's main does: whatever the command throws is reported, never an abort.
    try {
      return cmd_sandbox(argc - 1, argv + 1);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "swebox sandbox: %s\n", swebox::sandbox::to_valid_utf8(e.what()).c_str());
      return 1;
    }
  }
  std::string full = own_dir() + "/swebox-all";
  execv(full.c_str(), argv);
  std::fprintf(stderr, "swebox: cannot start %s: %s (it is built beside swebox; rebuild with scripts/build.sh)\n",
               full.c_str(), std::strerror(errno));
  return 127;
}
