// The deny list mirrors Docker's default profile (moby/profiles/seccomp/default.json) for a
// container without extra capabilities, and is a little stricter (io_uring, the new mount API,
// TIOCSTI). Every denied call fails with EPERM (ENOSYS for clone3, so that libc falls back to
// clone, whose flags we can inspect) rather than killing the process: tools that probe for a
// feature get a polite error. The full reasoning is in sandbox/SECCOMP.md.
#include "sandbox/seccomp_policy.h"

#include <cerrno>
#include <mutex>
#include <sched.h>
#include <seccomp.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/seccomp.h>

#include "sandbox/sandbox.h"

namespace swebox::sandbox::seccomp_policy {

namespace {

// Denied outright: kernel, module, clock, accounting, debugging, namespace and mount control.
constexpr const char* kDenied[] = {
    // mounts and the root
    "mount", "umount", "umount2", "pivot_root", "chroot", "open_tree", "move_mount", "fsopen",
    "fsconfig", "fsmount", "fspick", "mount_setattr",
    // namespaces (the sandbox's are made before the filter is loaded)
    "unshare", "setns",
    // looking into or controlling other processes
    "ptrace", "process_vm_readv", "process_vm_writev", "kcmp", "pidfd_getfd", "process_madvise",
    // the kernel itself
    "kexec_load", "kexec_file_load", "init_module", "finit_module", "delete_module", "create_module",
    "get_kernel_syms", "query_module", "reboot", "swapon", "swapoff", "syslog", "acct", "quotactl",
    "quotactl_fd", "lookup_dcookie", "nfsservctl", "uselib", "_sysctl", "sysfs", "ustat", "vhangup",
    "iopl", "ioperm", "vm86", "vm86old",
    // tracing and programs in the kernel
    "bpf", "perf_event_open", "fanotify_init", "userfaultfd",
    // keys
    "keyctl", "add_key", "request_key",
    // clocks
    "clock_settime", "clock_settime64", "settimeofday", "adjtimex", "clock_adjtime",
    "clock_adjtime64", "stime",
    // file handles bypass path permissions
    "open_by_handle_at", "name_to_handle_at",
    // NUMA policy (CAP_SYS_NICE in Docker's profile)
    "mbind", "set_mempolicy", "get_mempolicy", "move_pages", "migrate_pages",
    // io_uring bypasses this filter for the calls it performs
    "io_uring_setup", "io_uring_enter", "io_uring_register",
};

void add(scmp_filter_ctx ctx, int action, const char* name, unsigned n = 0, const scmp_arg_cmp* args = nullptr) {
  int nr = seccomp_syscall_resolve_name(name);
  if (nr == __NR_SCMP_ERROR) return;  // not a system call on this architecture
  int rc = seccomp_rule_add_array(ctx, action, nr, n, args);
  if (rc < 0 && rc != -EEXIST && rc != -EDOM)
    throw SandboxError(std::string("seccomp: cannot add a rule for ") + name + ": " + std::to_string(rc));
}

}  // namespace

std::vector<sock_filter> compile() {
  scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
  if (!ctx) throw SandboxError("seccomp: seccomp_init failed");
  struct Free {
    scmp_filter_ctx c;
    ~Free() { seccomp_release(c); }
  } guard{ctx};
  // A binary tree of syscall numbers instead of a linear chain: the kernel runs the filter for
  // every syscall number when it is loaded (to cache the always-allowed ones), so a short path
  // per number makes loading several times cheaper, besides every later syscall.
  seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2);
  // 32-bit entry points are filtered too, by the same names.
  seccomp_arch_add(ctx, SCMP_ARCH_X86);
  seccomp_arch_add(ctx, SCMP_ARCH_X32);
  const int eperm = SCMP_ACT_ERRNO(EPERM);
  for (const char* name : kDenied) add(ctx, eperm, name);

  // clone: no new namespaces. clone3 passes flags in memory the filter cannot read, so it reports
  // "not implemented" and libc falls back to clone.
  const uint64_t ns_flags = CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER | CLONE_NEWPID |
                            CLONE_NEWNET | CLONE_NEWCGROUP | CLONE_NEWTIME;
  for (uint64_t bit = 1; bit; bit <<= 1) {
    if (!(ns_flags & bit)) continue;
    scmp_arg_cmp c = SCMP_A0(SCMP_CMP_MASKED_EQ, bit, bit);
    add(ctx, eperm, "clone", 1, &c);
  }
  add(ctx, SCMP_ACT_ERRNO(ENOSYS), "clone3");

  // mknod: FIFOs, sockets and regular files only, never device nodes.
  for (uint64_t type : {uint64_t(S_IFCHR), uint64_t(S_IFBLK)}) {
    scmp_arg_cmp a1 = SCMP_A1(SCMP_CMP_MASKED_EQ, S_IFMT, type);
    add(ctx, eperm, "mknod", 1, &a1);
    scmp_arg_cmp a2 = SCMP_A2(SCMP_CMP_MASKED_EQ, S_IFMT, type);
    add(ctx, eperm, "mknodat", 1, &a2);
  }

  // personality: only what Docker allows (0, PER_LINUX32 0x8, UNAME26 0x20000, both, and the
  // 0xffffffff query); above all no ADDR_NO_RANDOMIZE or READ_IMPLIES_EXEC. libseccomp takes one
  // comparison per argument and rule, so: one rule per forbidden flag bit, each matching "that bit
  // set and the top nibble clear" (only the query sets the top nibble).
  for (int bit = 0; bit < 28; ++bit) {
    if (bit == 3 || bit == 17) continue;
    uint64_t b = uint64_t(1) << bit;
    scmp_arg_cmp a = SCMP_A0(SCMP_CMP_MASKED_EQ, b | 0xf0000000u, b);
    add(ctx, eperm, "personality", 1, &a);
  }

  // TIOCSTI/TIOCLINUX push input into a terminal another process reads.
  for (uint64_t req : {uint64_t(TIOCSTI), uint64_t(TIOCLINUX)}) {
    scmp_arg_cmp a = SCMP_A1(SCMP_CMP_MASKED_EQ, 0xffffffffu, req);
    add(ctx, eperm, "ioctl", 1, &a);
  }

  // Export the compiled program through a memfd (libseccomp 2.5 exports to fds only).
  int fd = memfd_create("swebox-seccomp", MFD_CLOEXEC);
  if (fd < 0) throw SandboxError("seccomp: memfd_create failed");
  int rc = seccomp_export_bpf(ctx, fd);
  if (rc < 0) {
    close(fd);
    throw SandboxError("seccomp: export failed: " + std::to_string(rc));
  }
  off_t size = lseek(fd, 0, SEEK_END);
  std::vector<sock_filter> prog(size / sizeof(sock_filter));
  if (pread(fd, prog.data(), size, 0) != size) {
    close(fd);
    throw SandboxError("seccomp: reading the exported program failed");
  }
  close(fd);
  return prog;
}

const std::vector<sock_filter>& program() {
  static std::once_flag once;
  static std::vector<sock_filter> prog;
  std::call_once(once, [] {
    prog = built_in();
    if (prog.empty()) prog = compile();
  });
  return prog;
}

int apply(const std::vector<sock_filter>& prog) {
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return -errno;
  sock_fprog fprog{static_cast<unsigned short>(prog.size()), const_cast<sock_filter*>(prog.data())};
  if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &fprog) != 0) return -errno;
  return 0;
}

}  // namespace swebox::sandbox::seccomp_policy
