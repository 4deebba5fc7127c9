// The sandbox user is uid/gid 1000 inside its user namespace. Outside it is a host uid of its own
// when we are root (host_uids.h: it owns nothing on the host and reads only world-readable
// files), or our own id when we are not (the only id an unprivileged process may map).
#include <cerrno>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "sandbox/identity.h"
#include "sandbox/kernel_files.h"

namespace swebox::sandbox {

HostIdentity workspace_lower_owner() {
  if (geteuid() == 0) return {0, 0};
  return {static_cast<uint32_t>(geteuid()), static_cast<uint32_t>(getegid())};
}

namespace user_ns {

std::string write_id_maps(pid_t pid, HostIdentity host) {
  std::string proc = "/proc/" + std::to_string(pid);
  // Unprivileged writers must give up setgroups before writing a gid map.
  if (geteuid() != 0 && !write_text(proc + "/setgroups", "deny"))
    return "cannot write " + proc + "/setgroups: " + strerror(errno);
  if (!write_text(proc + "/uid_map", std::to_string(kSandboxUid) + " " + std::to_string(host.uid) + " 1\n"))
    return "cannot write " + proc + "/uid_map: " + strerror(errno);
  if (!write_text(proc + "/gid_map", std::to_string(kSandboxGid) + " " + std::to_string(host.gid) + " 1\n"))
    return "cannot write " + proc + "/gid_map: " + strerror(errno);
  return "";
}

int become_sandbox_user() {
  // Keep the namespace's capabilities across the uid change, then raise them again.
  if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) != 0) return -errno;
  // Host supplementary groups (root's group 0 included) would otherwise stay in effect.
  if (geteuid() != kSandboxUid && setgroups(0, nullptr) != 0 && errno != EPERM) return -errno;
  if (setresgid(kSandboxGid, kSandboxGid, kSandboxGid) != 0) return -errno;
  if (setresuid(kSandboxUid, kSandboxUid, kSandboxUid) != 0) return -errno;
  __user_cap_header_struct hdr{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[2];
  if (syscall(SYS_capget, &hdr, data) != 0) return -errno;
  data[0].effective = data[0].permitted;
  data[1].effective = data[1].permitted;
  if (syscall(SYS_capset, &hdr, data) != 0) return -errno;
  return 0;
}

}  // namespace user_ns
}  // namespace swebox::sandbox
