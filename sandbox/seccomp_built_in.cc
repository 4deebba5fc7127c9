// The seccomp program compiled at build time (sandbox/tools/seccomp_export.cc writes
// seccomp_program.inc into the build dir), so that a process that makes sandboxes need not
// compile it again with libseccomp.
#include <iterator>

#include "sandbox/seccomp_policy.h"

namespace swebox::sandbox::seccomp_policy {

std::vector<sock_filter> built_in() {
  static const sock_filter kProgram[] = {
#include "seccomp_program.inc"
  };
  return {std::begin(kProgram), std::end(kProgram)};
}

}  // namespace swebox::sandbox::seccomp_policy
