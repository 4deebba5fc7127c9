// build/swebox, the command people script with: a small front that runs `swebox sandbox ...`
// itself and hands every other command to the full program (swebox-all, beside it) by execve.
// Why: the full program links libgit2 and its fifteen libraries (Kerberos, TLS, SSH ...), whose
// loading and relocation alone cost ~2.5 ms per process; a one-shot sandbox should not pay that.
// The other commands pay one small exec (~1 ms) in runs that last seconds to hours.
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

int cmd_sandbox(int argc, char** argv);

namespace {

constexpr const char* kCommands[] = {
#define SWEBOX_COMMAND(name) #name,
#include "commands.inc"
#undef SWEBOX_COMMAND
};

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

int usage(FILE* to) {
  std::fprintf(to, "usage: swebox COMMAND [ARGS...]\n\ncommands:\n");
  for (const char* c : kCommands) std::fprintf(to, "  %s\n", c);
  std::fprintf(to, "\n'swebox COMMAND --help' describes one command.\n");
  return to == stdout ? 0 : 2;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) return usage(stderr);
  if (!std::strcmp(argv[1], "-h") || !std::strcmp(argv[1], "--help") || !std::strcmp(argv[1], "help"))
    return usage(stdout);
  if (!std::strcmp(argv[1], "sandbox")) return cmd_sandbox(argc - 1, argv + 1);
  std::string full = own_dir() + "/swebox-all";
  execv(full.c_str(), argv);
  std::fprintf(stderr, "swebox: cannot start %s for '%s': %s (it is built beside swebox; rebuild with scripts/build.sh)\n",
               full.c_str(), argv[1], std::strerror(errno));
  return 127;
}
