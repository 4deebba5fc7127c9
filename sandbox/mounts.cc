#include "sandbox/mounts.h"

#include <cerrno>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <iterator>
#include <string>
#include <utility>
#include <vector>

namespace swebox::sandbox::mounts {

namespace {

// Where the new root is assembled before pivot_root (a tmpfs over it, in our namespace only).
constexpr const char* kBase = "/tmp";

std::string err(const std::string& what) { return what + ": " + strerror(errno); }

std::string fd_path(int fd) { return "/proc/self/fd/" + std::to_string(fd); }

// mkdir -p below kBase (components inside the root tmpfs).
bool make_dirs(const std::string& path, mode_t mode = 0755) {
  std::string cur;
  size_t i = 1;
  while (i <= path.size()) {
    size_t j = path.find('/', i);
    if (j == std::string::npos) j = path.size();
    cur = path.substr(0, j);
    if (mkdir(cur.c_str(), mode) != 0 && errno != EEXIST) return false;
    i = j + 1;
  }
  return true;
}

// Clones the tree at (dirfd, name) and attaches it read-only (unless writable) at target.
std::string bind_tree(int dirfd, const char* name, const std::string& target, bool writable) {
  int flags = OPEN_TREE_CLONE | AT_RECURSIVE | OPEN_TREE_CLOEXEC;
  if (!name || !*name) flags |= AT_EMPTY_PATH;
  int tree = open_tree(dirfd, name ? name : "", flags);
  if (tree < 0) return err(std::string("open_tree ") + (name ? name : "") + " for " + target);
  mount_attr attr{};
  attr.attr_set = MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | (writable ? 0 : MOUNT_ATTR_RDONLY);
  if (mount_setattr(tree, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof attr) != 0) {
    // NODEV may be locked off on mounts inherited from the host; retry without it.
    attr.attr_set &= ~MOUNT_ATTR_NODEV;
    if (mount_setattr(tree, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof attr) != 0) {
      close(tree);
      return err("mount_setattr " + target);
    }
  }
  int rc = move_mount(tree, "", AT_FDCWD, target.c_str(), MOVE_MOUNT_F_EMPTY_PATH);
  close(tree);
  return rc == 0 ? "" : err("move_mount " + target);
}

// Always replaced by fresh ones (or left empty: /sys).
bool is_kernel_dir(const char* name) {
  for (const char* n : {"proc", "sys", "dev", "tmp", "run"})
    if (!strcmp(name, n)) return true;
  return false;
}

// The host's system, when the rootfs is the host's "/": programs and their libraries. Everything
// else at the top level (homes, /var, /opt, /srv, /mnt, /media, working dirs, ...) is absent.
bool is_system_dir(const char* name) {
  return !strcmp(name, "usr") || !strcmp(name, "bin") || !strcmp(name, "sbin") || !strncmp(name, "lib", 3);
}

// What of the host's /etc a program may need: the loader's cache, name-service files for
// "files" lookups, locale and time zone, public TLS trust anchors, file-type databases, shell and
// terminal defaults, and the system configuration of interpreters (Debian's python3 reads
// /etc/python3.X/sitecustomize.py; the JDK its security policy). Nothing that identifies the host
// or holds a secret: no shadow, gshadow, sudoers, ssh (host keys), ssl/private, machine-id,
// subuid/subgid, docker, containerd, pam, security, cron, environment, pip.conf/npmrc/gitconfig
// (tokens, credential helpers). passwd, group, hostname, hosts and resolv.conf are generated.
constexpr const char* kEtcAllowlist[] = {
    "ld.so.cache", "ld.so.conf", "ld.so.conf.d", "alternatives",
    "nsswitch.conf", "host.conf", "gai.conf", "protocols", "services", "networks", "rpc", "ethertypes",
    "localtime", "timezone", "locale.alias", "locale.gen",
    "ca-certificates.conf", "ssl/certs", "ssl/openssl.cnf",
    "magic", "magic.mime", "mime.types",
    "bash.bashrc", "profile", "inputrc", "terminfo", "shells", "mtab",
    "debian_version", "os-release", "lsb-release",
    "python3", "perl", "fonts", "xml", "sgml", "X11",
};
// Prefixes of more /etc entries allowed (interpreters' versioned config dirs).
constexpr const char* kEtcAllowedPrefixes[] = {"python3.", "java-"};

bool etc_allowed(const char* name) {
  for (const char* p : kEtcAllowedPrefixes)
    if (!strncmp(name, p, strlen(p))) return true;
  return false;
}

bool write_file_at(const std::string& path, const std::string& data) {
  int fd = open(path.c_str(), O_CREAT | O_WRONLY | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return false;
  bool ok = write(fd, data.data(), data.size()) == static_cast<ssize_t>(data.size());
  close(fd);
  return ok;
}

// Shows the entry `name` of `dirfd` at `target`: a symlink copied, a directory or a file bound
// read-only. Absent entries are skipped.
std::string show_entry(int dirfd, const char* name, const std::string& target) {
  struct stat st;
  if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0) return "";
  if (S_ISLNK(st.st_mode)) {
    char link[4096];
    ssize_t n = readlinkat(dirfd, name, link, sizeof link - 1);
    if (n < 0) return "";
    link[n] = 0;
    symlink(link, target.c_str());
    return "";
  }
  if (S_ISDIR(st.st_mode)) {
    mkdir(target.c_str(), 0755);
  } else if (S_ISREG(st.st_mode)) {
    int fd = open(target.c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
    if (fd >= 0) close(fd);
  } else {
    return "";
  }
  return bind_tree(dirfd, name, target, false);
}

// Copies the regular file `name` of `dirfd` (at most 256 KiB) to `target`; false when it is not
// one (or cannot be read), to be shown another way.
bool copy_small_file(int dirfd, const char* name, const std::string& target) {
  int in = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
  if (in < 0) return false;
  struct stat st;
  if (fstat(in, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size > (256 << 10)) {
    close(in);
    return false;
  }
  // Kernel to kernel (sendfile): no buffer of ours to fault in for each file.
  int out = open(target.c_str(), O_CREAT | O_WRONLY | O_TRUNC | O_CLOEXEC, 0644);
  bool ok = out >= 0;
  for (off_t at = 0; ok && at < st.st_size;) {
    ssize_t n = sendfile(out, in, &at, st.st_size - at);
    ok = n > 0;
  }
  if (out >= 0) close(out);
  close(in);
  return ok;
}

// /etc from the allowlist above, and generated identity files (uid 1000 is the sandbox user).
std::string build_etc(int rootfd, const std::string& etc, const std::string& hostname) {
  mkdir(etc.c_str(), 0755);
  int efd = openat(rootfd, "etc", O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (efd >= 0) {
    std::vector<std::string> names(std::begin(kEtcAllowlist), std::end(kEtcAllowlist));
    int lfd = openat(efd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (DIR* d = lfd >= 0 ? fdopendir(lfd) : nullptr) {
      while (dirent* e = readdir(d))
        if (etc_allowed(e->d_name)) names.push_back(e->d_name);
      closedir(d);
    }
    for (const auto& n : names) {
      if (size_t slash = n.find('/'); slash != std::string::npos) mkdir((etc + "/" + n.substr(0, slash)).c_str(), 0755);
      // Small files are copied (a mount each would cost more, at set-up and at teardown).
      if (copy_small_file(efd, n.c_str(), etc + "/" + n)) continue;
      if (auto e = show_entry(efd, n.c_str(), etc + "/" + n); !e.empty()) {
        close(efd);
        return e;
      }
    }
    close(efd);
  }
  const std::pair<const char*, std::string> generated[] = {
      {"passwd",
       "root:x:0:0:root:/root:/bin/bash\nswebox:x:1000:1000:swebox:/tmp:/bin/bash\n"
       "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n"},
      {"group", "root:x:0:\nswebox:x:1000:\nnogroup:x:65534:\n"},
      {"hostname", hostname + "\n"},
      {"hosts", "127.0.0.1\tlocalhost " + hostname + "\n::1\tlocalhost ip6-localhost ip6-loopback\n"},
      {"resolv.conf", ""},
  };
  for (const auto& [name, text] : generated)
    if (!write_file_at(etc + "/" + name, text)) return err("writing /etc/" + std::string(name));
  return "";
}

std::string mount_overlay(const Plan& plan, const std::string& target) {
  std::string opts = "lowerdir=";
  for (size_t i = 0; i < plan.lower_fds.size(); ++i) opts += (i ? ":" : "") + fd_path(plan.lower_fds[i]);
  opts += ",upperdir=" + fd_path(plan.upper_fd) + ",workdir=" + fd_path(plan.work_fd) + ",userxattr";
  if (mount("overlay", target.c_str(), "overlay", MS_NOSUID | MS_NODEV, opts.c_str()) != 0)
    return err("mounting the workspace overlay at " + target);
  return "";
}

std::string build_dev(const std::string& dev) {
  if (mount("tmpfs", dev.c_str(), "tmpfs", MS_NOSUID | MS_NOEXEC, "mode=0755,size=65536") != 0)
    return err("tmpfs " + dev);
  for (const char* node : {"null", "zero", "full", "random", "urandom", "tty"}) {
    std::string target = dev + "/" + node;
    int fd = open(target.c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0666);
    if (fd < 0) return err("creating " + target);
    close(fd);
    std::string src = std::string("/dev/") + node;
    int tree = open_tree(AT_FDCWD, src.c_str(), OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
    if (tree < 0) return err("open_tree " + src);
    int rc = move_mount(tree, "", AT_FDCWD, target.c_str(), MOVE_MOUNT_F_EMPTY_PATH);
    close(tree);
    if (rc != 0) return err("binding " + src);
  }
  std::string pts = dev + "/pts";
  mkdir(pts.c_str(), 0755);
  if (mount("devpts", pts.c_str(), "devpts", MS_NOSUID | MS_NOEXEC, "newinstance,ptmxmode=0666,mode=0620") != 0)
    return err("devpts " + pts);
  std::string shm = dev + "/shm";
  mkdir(shm.c_str(), 01777);
  if (mount("tmpfs", shm.c_str(), "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777,size=67108864") != 0)
    return err("tmpfs " + shm);
  symlink("pts/ptmx", (dev + "/ptmx").c_str());
  symlink("/proc/self/fd", (dev + "/fd").c_str());
  symlink("/proc/self/fd/0", (dev + "/stdin").c_str());
  symlink("/proc/self/fd/1", (dev + "/stdout").c_str());
  symlink("/proc/self/fd/2", (dev + "/stderr").c_str());
  return "";
}

}  // namespace

std::string open_sources(Plan& plan) {
  plan.rootfs_fd = open(plan.rootfs.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (plan.rootfs_fd < 0) return err("opening the rootfs " + plan.rootfs);
  for (auto& b : plan.binds) {
    b.fd = open(b.source.c_str(), O_PATH | O_CLOEXEC);
    if (b.fd < 0) return err("opening bind source " + b.source);
  }
  plan.system_fds.clear();
  if (plan.allowlist) {
    for (const auto& p : plan.system_paths) {
      plan.system_fds.push_back(open(p.c_str(), O_PATH | O_CLOEXEC));
      if (plan.system_fds.back() < 0) return err("opening system path " + p);
    }
  }
  plan.lower_fds.clear();
  if (plan.scratch_workspace) return "";
  for (const auto& l : plan.lower_paths) {
    plan.lower_fds.push_back(open(l.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (plan.lower_fds.back() < 0) return err("opening workspace layer " + l);
  }
  plan.state_fd = open(plan.state_path.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (plan.state_fd < 0) return err("opening " + plan.state_path);
  plan.upper_fd = openat(plan.state_fd, "upper", O_PATH | O_DIRECTORY | O_CLOEXEC);
  plan.work_fd = openat(plan.state_fd, "work", O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (plan.upper_fd < 0 || plan.work_fd < 0) return err("opening upper/ and work/ in " + plan.state_path);
  return "";
}

namespace {

// The workspace as an overlay of the plan's layers at `ws`, under the root being built at `base`.
std::string mount_layered_workspace(Plan& plan, const std::string& base, const std::string& ws) {
  // The workspace's layers are kept in our namespace (overlay layers must be; the host's mounts
  // are gone after the pivot) under kLayersDir, and the overlay is made from there.
  std::string layers = base + kLayersDir;
  mkdir(layers.c_str(), 0700);
  if (mount("swebox-layers", layers.c_str(), "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=0700,size=65536") != 0)
    return err("tmpfs for the layers");
  auto keep = [&](int* fd, const std::string& name, int idmapped) {
    std::string at = layers + "/" + name;
    mkdir(at.c_str(), 0700);
    std::string e;
    if (idmapped >= 0) {
      // A detached mount made by the zygote: attached as it is.
      if (move_mount(idmapped, "", AT_FDCWD, at.c_str(), MOVE_MOUNT_F_EMPTY_PATH) != 0) e = err("attaching layer " + name);
      close(idmapped);
    } else {
      e = bind_tree(*fd, nullptr, at, true);
    }
    if (!e.empty()) return e;
    close(*fd);
    *fd = open(at.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
    return *fd < 0 ? err("reopening layer " + name) : std::string();
  };
  for (size_t i = 0; i < plan.lower_fds.size(); ++i) {
    int idmapped = i < plan.idmapped_lower_fds.size() ? plan.idmapped_lower_fds[i] : -1;
    if (auto e = keep(&plan.lower_fds[i], std::to_string(i), idmapped); !e.empty()) return e;
  }
  plan.idmapped_lower_fds.clear();
  // upper/ and work/ must stay on one mount: keep their parent.
  if (auto e = keep(&plan.state_fd, "state", -1); !e.empty()) return e;
  close(plan.upper_fd);
  close(plan.work_fd);
  plan.upper_fd = openat(plan.state_fd, "upper", O_PATH | O_DIRECTORY | O_CLOEXEC);
  plan.work_fd = openat(plan.state_fd, "work", O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (plan.upper_fd < 0 || plan.work_fd < 0) return err("reopening upper/ and work/");
  if (auto e = mount_overlay(plan, ws); !e.empty()) return e;
  // Mode 0: the file API (init without effective capabilities) cannot walk in here.
  chmod(layers.c_str(), 0);
  return "";
}

// No lowers and no state (a single sandbox without a workspace): a fresh tmpfs, which nobody
// needs to read back, so neither an overlay nor host dirs.
std::string mount_scratch_workspace(const Plan& plan, const std::string& ws) {
  std::string opts = "mode=0755" + (plan.workspace_bytes ? ",size=" + std::to_string(plan.workspace_bytes) : std::string());
  if (mount("swebox-workspace", ws.c_str(), "tmpfs", MS_NOSUID | MS_NODEV, opts.c_str()) != 0)
    return err("tmpfs for the workspace at " + ws);
  return "";
}

}  // namespace

std::string build_root(Plan& plan) {
  // Nothing we mount may propagate back to the host.
  if (mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) return err("making / private");
  const std::string base = kBase;
  if (mount("swebox-root", base.c_str(), "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755,size=4194304") != 0)
    return err("tmpfs for the new root");

  // The rootfs' top-level entries (with the host's "/", the system allowlist only): directories
  // as read-only binds, symlinks copied.
  int dfd = openat(plan.rootfs_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0) return err("opening the rootfs");
  DIR* dir = fdopendir(dfd);
  if (!dir) return err("reading the rootfs");
  while (dirent* e = readdir(dir)) {
    const char* name = e->d_name;
    if (!strcmp(name, ".") || !strcmp(name, "..") || is_kernel_dir(name)) continue;
    if (plan.allowlist && !is_system_dir(name)) continue;
    if (auto e2 = show_entry(dfd, name, base + "/" + name); !e2.empty()) {
      closedir(dir);
      return e2;
    }
  }
  if (plan.allowlist) {
    if (auto e2 = build_etc(dfd, base + "/etc", plan.hostname); !e2.empty()) {
      closedir(dir);
      return e2;
    }
    // Programs that look for /var/tmp find the sandbox's /tmp.
    mkdir((base + "/var").c_str(), 0755);
    symlink("/tmp", (base + "/var/tmp").c_str());
    for (size_t i = 0; i < plan.system_fds.size(); ++i) {
      std::string target = base + plan.system_paths[i];
      struct stat st;
      if (fstat(plan.system_fds[i], &st) != 0) continue;
      if (S_ISDIR(st.st_mode)) {
        if (!make_dirs(target)) return err("creating system path " + plan.system_paths[i]);
      } else {
        make_dirs(target.substr(0, target.rfind('/')));
        int fd = open(target.c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
        if (fd >= 0) close(fd);
      }
      if (auto e2 = bind_tree(plan.system_fds[i], nullptr, target, false); !e2.empty()) {
        closedir(dir);
        return e2;
      }
    }
  }
  closedir(dir);

  // Fresh kernel views. /proc shows only this pid namespace.
  std::string proc = base + "/proc";
  mkdir(proc.c_str(), 0555);
  if (mount("proc", proc.c_str(), "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr) != 0) return err("mounting /proc");
  // /sys stays an empty directory: sysfs would show the host's devices, firmware and DMI ids, and
  // nothing a repository's tests need is only there (CPU counts come from sched_getaffinity or
  // /proc).
  mkdir((base + "/sys").c_str(), 0555);
  std::string dev = base + "/dev";
  mkdir(dev.c_str(), 0755);
  if (auto e = build_dev(dev); !e.empty()) return e;
  std::string tmp = base + "/tmp";
  mkdir(tmp.c_str(), 01777);
  std::string tmp_opts = "mode=1777" + (plan.tmp_bytes ? ",size=" + std::to_string(plan.tmp_bytes) : std::string());
  if (mount("tmpfs", tmp.c_str(), "tmpfs", MS_NOSUID | MS_NODEV, tmp_opts.c_str()) != 0) return err("tmpfs /tmp");
  std::string run = base + "/run";
  mkdir(run.c_str(), 0755);
  if (mount("tmpfs", run.c_str(), "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755,size=16777216") != 0) return err("tmpfs /run");

  // Extra binds, then the workspace on top of everything.
  for (const auto& b : plan.binds) {
    std::string target = base + b.target;
    struct stat st;
    if (fstat(b.fd, &st) != 0) return err("bind source for " + b.target);
    if (S_ISDIR(st.st_mode)) {
      if (!make_dirs(target)) return err("creating bind target " + b.target);
    } else {
      make_dirs(target.substr(0, target.rfind('/')));
      int fd = open(target.c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
      if (fd >= 0) close(fd);
    }
    if (auto e = bind_tree(b.fd, nullptr, target, b.writable); !e.empty()) return e;
  }
  std::string ws = base + plan.workspace_mount;
  if (!make_dirs(ws)) return err("creating the workspace mount point " + plan.workspace_mount +
                                 " (it must be a new path or an existing directory of the rootfs)");
  if (auto e = plan.scratch_workspace ? mount_scratch_workspace(plan, ws) : mount_layered_workspace(plan, base, ws);
      !e.empty())
    return e;

  // The root tmpfs itself becomes read-only; only /tmp, /run, /dev/shm and the workspace are writable.
  mount_attr ro{};
  ro.attr_set = MOUNT_ATTR_RDONLY;
  if (mount_setattr(AT_FDCWD, base.c_str(), 0, &ro, sizeof ro) != 0) return err("making / read-only");

  if (chdir(base.c_str()) != 0) return err("chdir to the new root");
  if (syscall(SYS_pivot_root, ".", ".") != 0) return err("pivot_root");
  if (umount2(".", MNT_DETACH) != 0) return err("detaching the host root");
  if (chdir("/") != 0) return err("chdir /");
  auto reopen = [](int* fd, const std::string& path) {
    close(*fd);
    *fd = open(path.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
    return *fd >= 0;
  };
  if (plan.scratch_workspace) return "";
  const std::string kept = kLayersDir;
  for (size_t i = 0; i < plan.lower_fds.size(); ++i)
    if (!reopen(&plan.lower_fds[i], kept + "/" + std::to_string(i))) return err("reopening a workspace layer");
  if (!reopen(&plan.state_fd, kept + "/state") || !reopen(&plan.upper_fd, kept + "/state/upper") ||
      !reopen(&plan.work_fd, kept + "/state/work"))
    return err("reopening the upper layer");
  return "";
}

void remove_contents(int dirfd) {
  int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return;
  DIR* dir = fdopendir(fd);
  if (!dir) {
    close(fd);
    return;
  }
  while (dirent* e = readdir(dir)) {
    const char* name = e->d_name;
    if (!strcmp(name, ".") || !strcmp(name, "..")) continue;
    if (unlinkat(fd, name, 0) == 0) continue;
    // A directory (perhaps one the agent made unreadable): open it, empty it, remove it.
    fchmodat(fd, name, 0700, 0);
    int sub = openat(fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (sub >= 0) {
      remove_contents(sub);
      close(sub);
    }
    unlinkat(fd, name, AT_REMOVEDIR);
  }
  closedir(dir);
}

void strip_setid_bits(int dirfd) {
  int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return;
  DIR* dir = fdopendir(fd);
  if (!dir) {
    close(fd);
    return;
  }
  while (dirent* e = readdir(dir)) {
    const char* name = e->d_name;
    if (!strcmp(name, ".") || !strcmp(name, "..")) continue;
    struct stat st;
    if (fstatat(fd, name, &st, AT_SYMLINK_NOFOLLOW) != 0 || S_ISLNK(st.st_mode)) continue;
    if (st.st_mode & (S_ISUID | S_ISGID)) fchmodat(fd, name, st.st_mode & 07777 & ~(S_ISUID | S_ISGID), 0);
    if (S_ISDIR(st.st_mode)) {
      int sub = openat(fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (sub >= 0) {
        strip_setid_bits(sub);
        close(sub);
      }
    }
  }
  closedir(dir);
}

std::string reset_workspace(const Plan& plan) {
  const std::string& ws = plan.workspace_mount;
  if (plan.scratch_workspace) {
    int fd = open(ws.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return err("opening the workspace");
    remove_contents(fd);
    close(fd);
    return "";
  }
  if (umount2(ws.c_str(), MNT_DETACH) != 0) return err("unmounting the workspace");
  remove_contents(plan.upper_fd);
  remove_contents(plan.work_fd);
  return mount_overlay(plan, ws);
}

}  // namespace swebox::sandbox::mounts
