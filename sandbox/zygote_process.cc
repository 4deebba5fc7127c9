// The zygote process: makes, hands out and tears down sandboxes for its host (zygote.h), and makes
// ahead what it can (shells, spares). What each sandbox's first process does to itself is
// contain.cc; the host's side of the conversation is zygote.cc.
#include "sandbox/zygote_process.h"

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstring>
#include <ctime>
#include <deque>
#include <dirent.h>
#include <fcntl.h>
#include <map>
#include <optional>
#include <poll.h>
#include <sched.h>
#include <string_view>
#include <sys/fsuid.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/random.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

#include "sandbox/cgroup.h"
#include "sandbox/cleaner.h"
#include "sandbox/contain.h"
#include "sandbox/host_uids.h"
#include "sandbox/identity.h"
#include "sandbox/mounts.h"
#include "sandbox/prefault.h"
#include "sandbox/process_image.h"
#include "sandbox/seccomp_policy.h"
#include "sandbox/wire.h"

namespace swebox::sandbox::zygote {

namespace {

struct Record {
  pid_t pid = -1;
  bool reaped = false;
  std::string state_dir;
  bool temp_state = false;
  bool tmpfs_mounted = false;
  uint32_t uid = 0;  // its own host uid (host_uids.h), 0 when it has none (unprivileged host)
  cgroup::Group group;
};

std::string errno_text(const std::string& what) { return what + ": " + strerror(errno); }

bool is_absolute_clean(const std::string& p) {
  return !p.empty() && p[0] == '/' && p.find("/../") == std::string::npos && p.find("/./") == std::string::npos &&
         !(p.size() >= 3 && p.compare(p.size() - 3, 3, "/..") == 0);
}

std::string validate(const Config& c) {
  struct stat st;
  if (stat(c.rootfs.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
    return "rootfs '" + c.rootfs + "' is not a directory";
  for (const auto& p : c.system_paths) {
    if (!is_absolute_clean(p) || p == "/") return "system path '" + p + "' must be an absolute path below /, without '..'";
    if (stat(p.c_str(), &st) != 0) return "system path '" + p + "' does not exist on the host";
  }
  for (const auto& l : c.workspace_lowers)
    if (stat(l.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) return "workspace lower '" + l + "' is not a directory";
  if (c.workspace_lowers.size() >= wire::kMaxFds) return "at most " + std::to_string(wire::kMaxFds - 1) + " workspace lowers";
  if (!is_absolute_clean(c.workspace_mount) || c.workspace_mount == "/")
    return "workspace_mount '" + c.workspace_mount + "' must be an absolute path below /, without '..'";
  for (const auto& b : c.binds) {
    if (stat(b.host_path.c_str(), &st) != 0) return "bind source '" + b.host_path + "' does not exist";
    if (!is_absolute_clean(b.sandbox_path) || b.sandbox_path == "/")
      return "bind target '" + b.sandbox_path + "' must be an absolute path below /, without '..'";
  }
  if (c.hostname.empty() || c.hostname.size() > 64) return "hostname must be 1 to 64 characters";
  return "";
}

// A sandbox made by its host itself (create_direct) leaves the host's session, terminal and
// stdio, and shows a neutral argv and environment: what the zygote did once to itself, and every
// sandbox's init inherited. `null` (/dev/null) and `layout` are the host's, read ahead.
void detach_from_host(int null, const process_image::Layout& layout) {
  if (null < 0) null = open("/dev/null", O_RDWR | O_CLOEXEC);
  for (int i = 0; i < 3; ++i) dup2(null, i);
  for (int s : {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGPIPE}) signal(s, SIG_IGN);
  setsid();
  process_image::make_neutral("swebox-sandbox", layout);
}

// Closes every fd but `keep` (sorted; 0, 1 and 2 included). Allocates nothing: the cleaner calls it
// while the process whose memory it shares may still run (and allocate, taking no lock).
void close_all_except(const std::vector<int>& keep) {
  int from = 0;
  for (int fd : keep) {
    if (fd < from) continue;
    if (fd > from) syscall(SYS_close_range, from, fd - 1, 0);
    from = fd + 1;
  }
  syscall(SYS_close_range, from, ~0U, 0);
}

class Zygote;

// What a direct-mode sandbox's cleaner needs (zygote::create_direct), made when the sandbox is.
struct CleanerArgs {
  Zygote* zygote;
  Record rec;
  int init_pidfd, go_fd, done_fd;
  std::vector<int> keep;  // its fds, sorted: everything else of ours it closes
  // Read ahead: the cleaner may run after our exit, when our static objects are destroyed.
  std::vector<std::string> cgroup_parents;
};

// A cleaner made ready when its sandbox is made (arguments, stack, pipes) and started only by
// destroy_direct, or by the handler of a signal that ends us (on_fatal_signal). A process that
// shares our memory and lives beside us from the start costs every later copy-on-write fault of
// ours a TLB shootdown on its CPU: in a VM, an IPI each, a quarter of a one-shot command's CPU.
struct ReadyCleaner {
  enum : int { kEmpty, kReady, kStarted };
  std::atomic<int> state{kEmpty};
  CleanerArgs* args = nullptr;
  char* stack_top = nullptr;
  std::atomic<pid_t> pid{-1};
};
constexpr int kMaxReadyCleaners = 16;
ReadyCleaner ready_cleaners[kMaxReadyCleaners];

int cleaner_entry(void* args);

// Starts a ready cleaner, once (async-signal-safe). It begins with every signal blocked, until it
// ignores the terminal's.
pid_t start_cleaner(ReadyCleaner& c) {
  int expected = ReadyCleaner::kReady;
  if (!c.state.compare_exchange_strong(expected, ReadyCleaner::kStarted)) return -1;
  sigset_t all, old;
  sigfillset(&all);
  sigprocmask(SIG_SETMASK, &all, &old);
  pid_t pid = clone(cleaner_entry, c.stack_top, CLONE_VM, c.args);
  sigprocmask(SIG_SETMASK, &old, nullptr);
  c.pid = pid;
  return pid;
}

// SIGINT, SIGTERM, SIGHUP, SIGQUIT or SIGPIPE, where its action was to end us: the cleaners start
// (each waits for our exit), then the signal ends us as it would have. (SIGKILL cannot be caught:
// the sandbox dies with us, as its init's parent-death signal is SIGKILL, and its empty cgroups are
// removed by the next single sandbox's cleaner: cgroup::remove_stale.)
void on_fatal_signal(int sig) {
  for (auto& c : ready_cleaners) start_cleaner(c);
  signal(sig, SIG_DFL);
  raise(sig);
}

class Zygote {
 public:
  Zygote(int host_fd, int spares_fd, bool make_ahead)
      : host_fd_(host_fd), spares_fd_(spares_fd), make_ahead_(make_ahead) {}

  // --- direct mode: this object in the host's own process (create_direct) -------------------
  // What run() reads first, minus what only a serving zygote needs (its neutral image: each
  // sandbox's first process takes one itself; the mount table: nothing is made ahead).
  void start_direct() {
    direct_ = true;
    direct_null_ = open("/dev/null", O_RDWR | O_CLOEXEC);
    direct_layout_ = process_image::read_layout();
    temp_base_ = getenv("TMPDIR") && *getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    uids_.load();
    try {
      seccomp_policy::program();
    } catch (const std::exception& e) {
      seccomp_error_ = e.what();
    }
    for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGPIPE}) {
      struct sigaction now {};
      if (sigaction(sig, nullptr, &now) != 0 || now.sa_handler != SIG_DFL) continue;  // (ignored, or the caller's)
      struct sigaction act {};
      act.sa_handler = on_fatal_signal;
      sigemptyset(&act.sa_mask);
      act.sa_flags = SA_RESTART;
      sigaction(sig, &act, nullptr);
    }
  }

  Created make_direct(const Config& c) {
    if (!seccomp_error_.empty()) throw SandboxError(seccomp_error_);
    if (std::string e = validate(c); !e.empty()) throw SandboxError(e);
    uint64_t id = next_id_++;
    Building b;
    if (std::string e = start_build(c, "", name_for(id), false, &b); !e.empty()) throw SandboxError(e);
    Direct d;
    d.rec = b.rec;
    prepare_direct_cleaner(d);
    directs_[id] = d;
    Created out;
    out.id = id;
    out.init_pid = b.rec.pid;
    out.control_fd = b.host_ctl;
    out.upper_dir = b.upper;
    out.note = b.note;
    out.starting_fd = b.ready_fd;
    return out;
  }

  void destroy_direct(uint64_t id, int ctl, bool wait) {
    auto it = directs_.find(id);
    if (it == directs_.end()) {
      if (ctl >= 0) close(ctl);
      return;
    }
    Direct d = std::move(it->second);
    directs_.erase(it);
    // Killed first, then its control socket closed (closed first, init would wake up to exit).
    if (d.init_pidfd >= 0) syscall(SYS_pidfd_send_signal, d.init_pidfd, SIGKILL, nullptr, 0);
    else kill(d.rec.pid, SIGKILL);
    if (ctl >= 0) close(ctl);
    pid_t cleaner = d.ready ? start_cleaner(*d.ready) : -1;
    if (d.ready) {
      // The cleaner holds its ends now (taken at its clone).
      close(d.ready->args->go_fd);
      close(d.ready->args->done_fd);
    }
    if (cleaner < 0) {  // no cleaner could be made: all of it here (teardown reaps init)
      if (d.go_fd >= 0) close(d.go_fd);
      if (d.done_fd >= 0) close(d.done_fd);
      teardown(d.rec);
      if (d.init_pidfd >= 0) close(d.init_pidfd);
      if (d.ready) d.ready->state = ReadyCleaner::kEmpty;
      return;
    }
    if (!wait) return;  // the cleaner goes on when we exit (its go pipe closes then)
    char c = 0;
    if (write(d.go_fd, "g", 1) == 1)
      while (read(d.done_fd, &c, 1) < 0 && errno == EINTR) {
      }
    while (waitpid(cleaner, nullptr, __WCLONE) < 0 && errno == EINTR) {
    }
    while (waitpid(d.rec.pid, nullptr, 0) < 0 && errno == EINTR) {
    }
    // The cleaner closed its copies of these; ours go now (the uid's hold ends with the last).
    for (int fd : {d.go_fd, d.done_fd, d.init_pidfd, d.uid_fd, d.rec.group.oom_events_fd})
      if (fd >= 0) close(fd);
    d.ready->state = ReadyCleaner::kEmpty;
  }

  // The cleaner's body (cleaner_entry): runs in a process that shares our memory, not our fds. It
  // waits until the caller asks for the teardown and waits itself, or is gone: so never two of us
  // run this memory's code at once (the allocator takes no locks in a single-threaded process).
  // It may run after our exit: it uses only what CleanerArgs and this (never destroyed) object
  // hold, no static object of ours (destroyed by then).
  static int direct_cleaner_main(CleanerArgs* a) {
    // Nothing of the caller's stays open here: its stdout held by us would keep its reader
    // waiting for EOF until the teardown ends.
    close_all_except(a->keep);
    // Nor its terminal's signals: a Ctrl-C that ends the caller must not end its teardown. (Our
    // signal dispositions are our own: CLONE_VM without CLONE_SIGHAND.)
    for (int s : {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGPIPE}) signal(s, SIG_IGN);
    setsid();
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    char c = 0;
    ssize_t n;
    while ((n = read(a->go_fd, &c, 1)) < 0 && errno == EINTR) {
    }
    syscall(SYS_pidfd_send_signal, a->init_pidfd, SIGKILL, nullptr, 0);
    // Readable once init exited, which is after every other process of its pid namespace.
    pollfd exited{a->init_pidfd, POLLIN, 0};
    while (poll(&exited, 1, -1) < 0 && errno == EINTR) {
    }
    a->rec.reaped = true;  // (reaped by the caller, its parent, or by whoever inherits it)
    a->zygote->teardown(a->rec);
    if (n == 1 && write(a->done_fd, "d", 1) < 0) {
    }
    // Litter of single sandboxes whose caller was killed with SIGKILL (on_fatal_signal).
    cgroup::remove_stale(a->cgroup_parents);
    a->zygote->remove_stale_state();
    _exit(0);
  }

  // The temp state dirs "swebox-sandbox-<pid>-XXXXXX" of single sandboxes whose maker <pid> is
  // gone (killed with SIGKILL): their tmpfs unmounted, then removed. Only dirs of ours (root's or a
  // sandbox uid's), never through a symlink ($TMPDIR may be world-writable).
  void remove_stale_state() {
    DIR* d = opendir(temp_base_.c_str());
    if (!d) return;
    std::vector<std::string> stale;
    while (dirent* e = readdir(d)) {
      const char* name = e->d_name;
      const char* prefix = "swebox-sandbox-";
      if (strncmp(name, prefix, strlen(prefix)) != 0) continue;
      char* end = nullptr;
      long pid = strtol(name + strlen(prefix), &end, 10);
      if (pid <= 0 || *end != '-') continue;
      if (kill(static_cast<pid_t>(pid), 0) == 0 || errno != ESRCH) continue;
      struct stat st;
      std::string path = temp_base_ + "/" + name;
      // (A sandbox's own uid owns its state dir while it lives.)
      if (lstat(path.c_str(), &st) != 0 || !S_ISDIR(st.st_mode) || (st.st_uid != geteuid() && !uids_.in_range(st.st_uid)))
        continue;
      stale.push_back(path);
    }
    closedir(d);
    for (const auto& path : stale) {
      umount2(path.c_str(), MNT_DETACH | UMOUNT_NOFOLLOW);
      cleaner::remove(-1, path);
    }
  }

  [[noreturn]] void run() {
    // What is read of the host's environment is read now; then the argv and environment every
    // sandbox's init and keepers inherit from us are wiped (process_image.h).
    temp_base_ = getenv("TMPDIR") && *getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    uids_.load();
    process_image::make_neutral("swebox-sandbox");
    sigset_t mask;
    sigemptyset(&mask);
    sigaddset(&mask, SIGCHLD);
    sigprocmask(SIG_BLOCK, &mask, nullptr);
    sigchld_fd_ = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
    // Shells copy the mount table when they are made: a mount or unmount on the host since then
    // makes them stale (a path under a new mount would not be there). The kernel flags changes
    // on an open mountinfo with POLLPRI.
    mounts_fd_ = open("/proc/self/mountinfo", O_RDONLY | O_CLOEXEC);
    mount_table_ = drain_mountinfo();
    try {
      seccomp_policy::program();
    } catch (const std::exception& e) {
      seccomp_error_ = e.what();
    }
    for (;;) {
      std::vector<pollfd> fds = {{host_fd_, POLLIN, 0}, {sigchld_fd_, POLLIN, 0}, {mounts_fd_, POLLPRI, 0}};
      int timeout_ms = -1;
      auto now = Clock::now();
      for (const auto& b : building_) {
        fds.push_back({b.ready_fd, POLLIN, 0});
        auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(b.deadline - now).count() + 1;
        ms = std::max<long long>(ms, 0);
        if (timeout_ms < 0 || ms < timeout_ms) timeout_ms = static_cast<int>(ms);
      }
      for (auto at : {pending_spare_ ? std::optional<Clock::time_point>(pending_spare_->at) : std::nullopt, shell_due_}) {
        if (!at) continue;
        auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(*at - now).count() + 1;
        ms = std::max<long long>(ms, 0);
        if (timeout_ms < 0 || ms < timeout_ms) timeout_ms = static_cast<int>(ms);
      }
      int n = poll(fds.data(), fds.size(), timeout_ms);
      if (n < 0 && errno != EINTR) break;
      if (fds[1].revents) reap();
      if (fds[2].revents) mounts_changed();
      // Sandboxes whose set-up ended (or ran out of time); collected first, as finishing one
      // may start another build.
      std::vector<int> ended;
      for (size_t i = 3; i < fds.size(); ++i)
        if (fds[i].revents || Clock::now() >= building_[i - 3].deadline) ended.push_back(fds[i].fd);
      for (int fd : ended) finish_build(fd);
      if (pending_spare_ && Clock::now() >= pending_spare_->at) start_pending_spare();
      if (shell_due_ && Clock::now() >= *shell_due_) make_due_shell();
      if (fds[0].revents) {
        std::string body;
        std::vector<int> passed;
        if (!wire::recv_frame_fds(host_fd_, &body, -1, &passed)) break;  // the host is gone
        // The reply socket comes first; kDestroy may bring the sandbox's control socket after it.
        int reply = -1;
        try {
          wire::Reader r(body);
          uint64_t kind = r.u64();
          size_t used = 0;
          if (kind == wire::kDestroy) {
            wire::DestroyRequest d = wire::read_destroy_request(r);
            if (d.with_reply && used < passed.size()) reply = passed[used++];
            int ctl = d.with_ctl && used < passed.size() ? passed[used++] : -1;
            for (size_t i = used; i < passed.size(); ++i) close(passed[i]);
            destroy(d.id, reply, ctl);
            continue;
          }
          if (!passed.empty()) reply = passed[used++];
          for (size_t i = used; i < passed.size(); ++i) close(passed[i]);
          if (kind == wire::kTook) {
            took(wire::read_took_request(r));
            if (reply >= 0) close(reply);
          } else if (reply < 0) {
            continue;
          } else if (kind == wire::kRelease) {
            release(reply);
          } else if (kind == wire::kCreate) {
            std::string key = body.substr(sizeof(uint64_t));  // the config's bytes
            create(wire::read_config(r), key, reply);
          } else {
            close(reply);
          }
        } catch (const std::exception& e) {
          if (reply >= 0) fail(reply, std::string("zygote: ") + e.what());
        }
      }
    }
    // The host is gone: kill every sandbox at once, then clean up after each.
    for (auto& [id, rec] : records_)
      if (!rec.reaped) kill(rec.pid, SIGKILL);
    for (auto& [id, rec] : records_) teardown(rec);
    for (auto& rec : dying_) teardown(rec);
    for (auto& b : building_) teardown(b.rec);
    for (auto& s : shells_) teardown(s.rec);
    _exit(0);
  }

 private:
  using Clock = std::chrono::steady_clock;

  // A sandbox being made: its child works through its set-up (cgroups, mounts, init's first
  // keeper) while the zygote serves other requests, so many can be made at once.
  struct Building {
    Config config;
    std::string key;
    Record rec;
    int host_ctl = -1;    // the host's end of init's control socket, handed over when done
    int ready_fd = -1;    // the child reports "R" (ready) or "E<why>" here
    std::string upper, note;
    bool spare = false;   // made ahead of a request, under spare names
    int reply = -1;       // the create request waiting for it (-1: none yet)
    uint64_t id = 0;      // the id it is handed out as, once a request waits for it
    bool refill = false;  // its request repeated the one before: make a spare when handing out
    Clock::time_point deadline;
  };

  void reap() {
    signalfd_siginfo info;
    while (read(sigchld_fd_, &info, sizeof info) > 0) {
    }
    for (;;) {
      pid_t pid = waitpid(-1, nullptr, WNOHANG);
      if (pid <= 0) break;
      for (auto& [id, rec] : records_)
        if (rec.pid == pid) rec.reaped = true;
      for (auto& rec : dying_)
        if (rec.pid == pid) rec.reaped = true;
      for (auto& b : building_)
        if (b.rec.pid == pid) b.rec.reaped = true;
      for (auto& s : shells_)
        if (s.rec.pid == pid) s.rec.reaped = true;
    }
    // A killed sandbox whose init is reaped has no process left: its cgroups and dirs can go.
    for (auto it = dying_.begin(); it != dying_.end();) {
      if (!it->reaped) {
        ++it;
        continue;
      }
      teardown(*it);
      it = dying_.erase(it);
    }
  }

  void fail(int reply, const std::string& why) {
    wire::send_frame(reply, wire::failed_reply(why));
    close(reply);
  }

  // The host dir holding upper/ and work/ (and empty/ when the workspace has no lower): mode 0700,
  // owned with upper/ and work/ by the sandbox's own host uid (rec.uid, when we are root) while
  // it lives; a caller's is given back to root at teardown.
  std::string prepare_state(const Config& c, Record& rec, std::string* error) {
    bool root = geteuid() == 0;
    if (c.state_dir.empty()) {
      // A single sandbox's names its maker: if that is killed with SIGKILL, a later single
      // sandbox's cleaner removes the dir (remove_stale_state).
      std::string templ = temp_base_ + "/swebox-sandbox-" + (direct_ ? std::to_string(getpid()) + "-" : "") + "XXXXXX";
      if (!mkdtemp(templ.data())) {
        *error = errno_text("creating a temp state dir in " + templ);
        return "";
      }
      rec.state_dir = templ;
      rec.temp_state = true;
      if (uint64_t size = workspace_cap(c.limits); size && root) {
        std::string opts = "mode=0700,size=" + std::to_string(size);
        if (mount("swebox-upper", templ.c_str(), "tmpfs", MS_NOSUID | MS_NODEV, opts.c_str()) == 0)
          rec.tmpfs_mounted = true;
      }
    } else {
      rec.state_dir = c.state_dir;
      if (mkdir(c.state_dir.c_str(), 0700) != 0 && errno != EEXIST) {
        *error = errno_text("creating state_dir " + c.state_dir);
        return "";
      }
      chmod(c.state_dir.c_str(), 0700);
    }
    for (const char* sub : {"upper", "work", "empty"}) {
      std::string p = rec.state_dir + "/" + sub;
      if (mkdir(p.c_str(), 0755) != 0 && errno != EEXIST) {
        *error = errno_text("creating " + p);
        return "";
      }
      // The sandbox user owns its layers (and, being uid 1000 inside, can edit what it made).
      // empty/ is a lower, owned by root like every lower (shown as the sandbox user's through
      // its idmapped mount).
      if (root && rec.uid && strcmp(sub, "empty") != 0 && lchown(p.c_str(), rec.uid, rec.uid) != 0) {
        *error = errno_text("chown " + p);
        return "";
      }
    }
    // The sandbox reopens upper/ and work/ through it once it is its own user.
    if (root && rec.uid && lchown(rec.state_dir.c_str(), rec.uid, rec.uid) != 0) {
      *error = errno_text("chown " + rec.state_dir);
      return "";
    }
    return rec.state_dir + "/upper";
  }

  // The workspace's size cap: Limits::workspace_bytes, at most half the memory limit (the
  // tmpfs's pages are charged to the sandbox's memory cgroup: past that, writes would meet the
  // OOM killer instead of ENOSPC).
  static uint64_t workspace_cap(const Limits& l) {
    if (!l.workspace_bytes) return 0;
    if (l.memory_bytes && l.workspace_bytes > l.memory_bytes / 2) return std::max<uint64_t>(l.memory_bytes / 2, 1 << 20);
    return l.workspace_bytes;
  }

  // A sandbox's processes made before its config is known: namespaces and id maps, cgroups
  // (limits come with the config), the network namespace, a temp state dir. Its child then
  // waits for the config (assign()), mounts and becomes init. Made ahead of a request, a shell
  // takes the costly part off that request's path, whatever its config: moving into v2 cgroups
  // waits for an RCU grace period (milliseconds), a network namespace costs ~0.6 ms.
  struct Shell {
    Record rec;
    std::string note;
    int host_ctl = -1;   // the host's end of init's control socket
    int ready_fd = -1;   // the child reports "R" or "E<why>" here (also before its config)
    int assign_fd = -1;  // the config goes here
  };

  // Makes a shell whose cgroups are named `name`, with the state dir `state_for` asks for (a
  // temp dir by default; a size-limited tmpfs must be mounted before the clone, to be seen in
  // the child's mount namespace). Returns "" or what failed (all undone then).
  std::string make_shell(const std::string& name, Shell* out, const Config& state_for = Config{}) {
    Shell s;
    std::string error;
    if (geteuid() == 0 && !(s.rec.uid = uids_.take(&error))) return "sandbox setup failed: " + error;
    // A plain temp dir is made after the clone, while the child works (it opens the dir only once
    // it has its config): mkdir is slow on some disks (ext4 with discard). A single sandbox
    // without a workspace has none: its workspace is a tmpfs of its own (contain.cc).
    bool stateless = !make_ahead_ && state_for.workspace_lowers.empty() && state_for.state_dir.empty() &&
                     !state_for.limits.workspace_bytes;
    bool state_first = !state_for.state_dir.empty() || (workspace_cap(state_for.limits) && geteuid() == 0);
    if (state_first && prepare_state(state_for, s.rec, &error).empty()) {
      teardown(s.rec);
      return error;
    }
    Limits unset;  // the config's limits are written by assign()
    unset.memory_bytes = 0;
    unset.pids = 0;
    unset.cpus = 0;
    s.rec.group = cgroup::create(name, unset, &s.note);
    // The child moves itself into its cgroups through these, so that the grace periods hold up
    // only that child, not the zygote.
    std::vector<int> procs = cgroup::open_procs(s.rec.group, &error);
    if (!error.empty()) {
      teardown(s.rec);
      return "sandbox setup failed: cannot move the sandbox into its cgroups: " + error;
    }
    int ctl[2], ready[2], assign[2];
    socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, ctl);
    pipe2(ready, O_CLOEXEC);
    socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, assign);
    // The network namespace is made by the child (in its cgroups, in parallel).
    const int flags = CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWUTS;
    // The user namespace is created by the sandbox's own uid (it owns it, and per-user quotas in
    // it are charged to that uid, not to root); file access stays root's (fsuid 0), so that the
    // child opens the host paths it mounts as before.
    if (s.rec.uid) {
      setresgid(-1, s.rec.uid, -1);
      setresuid(-1, s.rec.uid, -1);
      setfsuid(0);
      setfsgid(0);
    }
    long pid = syscall(SYS_clone, flags | SIGCHLD, nullptr, nullptr, nullptr, 0);
    if (pid != 0 && s.rec.uid) {
      setresuid(-1, 0, -1);
      setresgid(-1, 0, -1);
    }
    if (pid == 0) {
      if (direct_) {
        prefault::code();
        detach_from_host(direct_null_, direct_layout_);
      }
      // Nothing of the zygote's stays open in the sandbox (other sandboxes' control sockets
      // above all: a copy held here would keep their init alive past the host's close).
      std::vector<int> keep = procs;
      for (int fd : {ctl[1], ready[1], assign[1], s.rec.group.oom_events_fd})
        if (fd >= 0) keep.push_back(fd);
      contain::close_all_but(keep);
      contain::run(s.rec.group, procs, ctl[1], ready[1], assign[1], make_ahead_, s.rec.uid != 0);
    }
    for (int fd : procs) close(fd);
    for (int fd : {ctl[1], ready[1], assign[1]}) close(fd);
    if (pid < 0) {
      for (int fd : {ctl[0], ready[0], assign[0]}) close(fd);
      teardown(s.rec);
      return errno_text("clone into new namespaces (user namespaces may be disabled: "
                        "see /proc/sys/user/max_user_namespaces)");
    }
    s.rec.pid = pid;
    s.host_ctl = ctl[0];
    s.ready_fd = ready[0];
    s.assign_fd = assign[0];
    HostIdentity host = s.rec.uid ? HostIdentity{s.rec.uid, s.rec.uid}
                                  : HostIdentity{static_cast<uint32_t>(geteuid()), static_cast<uint32_t>(getegid())};
    if (std::string e = user_ns::write_id_maps(pid, host); !e.empty()) {
      discard_shell(s);
      return "sandbox setup failed: " + e;
    }
    if (!state_first && !stateless && prepare_state(state_for, s.rec, &error).empty()) {
      discard_shell(s);
      return error;
    }
    *out = std::move(s);
    return "";
  }

  // Reads the mount table (which re-arms the change notice) and returns it without the mounts
  // we make ourselves (capped workspaces' tmpfs on temp state dirs): those change nothing a
  // shell or spare made earlier sees of the host.
  std::string drain_mountinfo() {
    std::string table;
    if (mounts_fd_ < 0) return table;
    char buf[65536];
    lseek(mounts_fd_, 0, SEEK_SET);
    for (ssize_t n; (n = read(mounts_fd_, buf, sizeof buf)) > 0;) table.append(buf, n);
    std::string own = " " + temp_base_ + "/swebox-sandbox-", out;
    for (size_t at = 0; at < table.size();) {
      size_t end = table.find('\n', at);
      if (end == std::string::npos) end = table.size();
      std::string_view line(table.data() + at, end - at);
      // Field 5 is the mount point; our tmpfs are named "swebox-upper".
      if (line.find(own) == std::string_view::npos || line.find(" swebox-upper ") == std::string_view::npos)
        out.append(line).push_back('\n');
      at = end + 1;
    }
    return out;
  }

  // Tears down what was made ahead and is not claimed by a request: shells, spares (not those
  // pushed to the host).
  void drop_made_ahead() {
    for (auto& s : shells_) discard_shell(s);
    shells_.clear();
    for (auto it = building_.begin(); it != building_.end();) {
      if (!it->spare || it->reply >= 0) {
        ++it;
        continue;
      }
      close(it->host_ctl);
      close(it->ready_fd);
      retire(it->rec);
      it = building_.erase(it);
    }
  }

  // The host's mount table changed: what was made ahead from a copy of it goes.
  void mounts_changed() {
    std::string table = drain_mountinfo();
    if (table == mount_table_) return;
    mount_table_ = std::move(table);
    drop_made_ahead();
    if (!last_key_.empty()) want_shell();
  }

  void discard_shell(Shell& s) {
    for (int fd : {s.host_ctl, s.ready_fd, s.assign_fd})
      if (fd >= 0) close(fd);
    s.host_ctl = s.ready_fd = s.assign_fd = -1;
    retire(s.rec);
  }

  // Gives shell `s` its config (under cgroup names `name`): limits, state dir; its child mounts
  // and reports; finish_build() takes over then. Returns "" or what failed (all undone then).
  std::string assign(Shell& s, const Config& c, const std::string& key, const std::string& name, bool spare,
                     Building* out, bool state_made_for_c = false) {
    Building b;
    b.config = c;
    b.key = key;
    b.spare = spare;
    b.note = s.note;
    b.rec = s.rec;
    std::string error;
    auto undo = [&](const std::string& why) {
      s.rec = b.rec;
      discard_shell(s);
      return "sandbox setup failed: " + why;
    };
    if (!state_made_for_c && !c.state_dir.empty()) {
      // The shell's temp dir will not do: the caller's dir.
      cleaner::remove(cleaner_queue(), b.rec.state_dir);
      b.rec.state_dir.clear();
      b.rec.temp_state = false;
      if (prepare_state(c, b.rec, &error).empty()) return undo(error);
    }
    b.upper = b.rec.state_dir.empty() ? "" : b.rec.state_dir + "/upper";
    for (auto& dir : b.rec.group.dirs) {
      std::string renamed = dir.substr(0, dir.rfind('/') + 1) + name;
      if (renamed != dir && rename(dir.c_str(), renamed.c_str()) == 0) dir = renamed;
    }
    if (!cgroup::apply_limits(b.rec.group, c.limits)) return undo(errno_text("writing the cgroup limits"));
    std::vector<int> idmapped;
    if (b.rec.uid) {
      idmapped = idmapped_lowers(c, b.rec, &error);
      if (!error.empty()) return undo(error);
    }
    bool sent = wire::send_frame_fds(s.assign_fd, wire::assignment(c, b.rec.state_dir), idmapped.data(), idmapped.size());
    for (int fd : idmapped) close(fd);
    if (!sent) return undo("the sandbox died while starting");
    close(s.assign_fd);
    s.assign_fd = -1;
    b.host_ctl = s.host_ctl;
    b.ready_fd = s.ready_fd;
    b.deadline = Clock::now() + std::chrono::seconds(20);
    *out = std::move(b);
    return "";
  }

  // The workspace lowers (root-owned) as detached read-only mounts idmapped so that root's files
  // show as owned by the sandbox's host uid, hence by its user (1000) inside: the agent edits them
  // through the overlay while the trees stay root's and read-only on the host. Only we can make
  // them (idmapping needs CAP_SYS_ADMIN on the host); the child attaches them in its namespace.
  // (No workspace: its one lower, the state's empty/, needs no idmap: the overlay's root shows
  // upper/'s owner, and there is nothing else in it.)
  std::vector<int> idmapped_lowers(const Config& c, const Record& rec, std::string* error) {
    const std::vector<std::string>& paths = c.workspace_lowers;
    std::vector<int> out;
    if (paths.empty()) return out;
    int userns = uids_.idmap(rec.uid, error);
    if (userns < 0) return out;
    for (const auto& p : paths) {
      int tree = open_tree(AT_FDCWD, p.c_str(), OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE);
      mount_attr attr{};
      attr.attr_set = MOUNT_ATTR_IDMAP | MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV;
      attr.userns_fd = userns;
      if (tree < 0 || mount_setattr(tree, "", AT_EMPTY_PATH, &attr, sizeof attr) != 0) {
        *error = errno_text("cannot make an idmapped mount of the workspace lower " + p +
                            " (its filesystem must support idmapped mounts: ext4, xfs, btrfs; tmpfs from Linux 6.3)");
        if (tree >= 0) close(tree);
        for (int fd : out) close(fd);
        out.clear();
        return out;
      }
      out.push_back(tree);
    }
    return out;
  }

  // Starts making a sandbox named `name` (under spare names when `spare`) with a new shell.
  std::string start_build(const Config& c, const std::string& key, const std::string& name, bool spare,
                          Building* out) {
    Shell s;
    if (std::string e = make_shell(name, &s, c); !e.empty()) return e;
    return assign(s, c, key, name, spare, out, true);
  }

  // A shell made ahead and still alive, or false.
  bool take_shell(Shell* out) {
    while (!shells_.empty()) {
      Shell s = std::move(shells_.front());
      shells_.pop_front();
      pollfd p{s.ready_fd, POLLIN, 0};  // a shell says something only if it failed
      if (!s.rec.reaped && poll(&p, 1, 0) == 0) {
        *out = std::move(s);
        return true;
      }
      discard_shell(s);
    }
    return false;
  }

  // Keeps one shell ready once sandboxes are being asked for; begun like a spare (2 ms later
  // unless requests come back to back).
  void want_shell() {
    if (!make_ahead_ || shells_.size() >= kShells || shell_due_) return;
    shell_due_ = Clock::now() + std::chrono::milliseconds(back_to_back_ ? 0 : kSpareDelayMs);
  }

  void make_due_shell() {
    shell_due_.reset();
    Shell s;
    if (make_shell(spare_name(), &s).empty()) shells_.push_back(std::move(s));
  }

  // The child reported (or ran out of time): the sandbox is ready, or torn down.
  void finish_build(int ready_fd) {
    auto it = std::find_if(building_.begin(), building_.end(), [&](const Building& b) { return b.ready_fd == ready_fd; });
    if (it == building_.end()) return;
    Building b = std::move(*it);
    building_.erase(it);
    std::string e;
    pollfd p{b.ready_fd, POLLIN, 0};
    if (poll(&p, 1, 0) <= 0) {
      e = "the sandbox did not start within 20 s";
    } else {
      char buf[1024];
      ssize_t n = read(b.ready_fd, buf, sizeof buf);
      if (n <= 0) e = "the sandbox died while starting";
      else if (n > 1 || buf[0] != 'R') e = std::string(buf + 1, n - 1);
    }
    close(b.ready_fd);
    b.ready_fd = -1;
    if (!e.empty()) {
      close(b.host_ctl);
      teardown(b.rec);
      if (b.reply >= 0) fail(b.reply, "sandbox setup failed: " + e);
      return;
    }
    if (b.reply >= 0) hand_out(b);
    else push(b);
  }

  // Sends the ready spare `b` to the host ahead of its request (the host takes it without a
  // round trip to the zygote: see create() on the host side). Renamed to its own names here,
  // where it costs nothing to anyone waiting.
  void push(Building& b) {
    b.id = next_id_++;
    own_names(b);
    std::string message = wire::spare_message(made(b), b.key);
    records_[b.id] = b.rec;
    int fds[1] = {b.host_ctl};
    // Never blocks: the host reads the channel only when it makes a sandbox.
    int flags = fcntl(spares_fd_, F_GETFL);
    fcntl(spares_fd_, F_SETFL, flags | O_NONBLOCK);
    bool sent = wire::send_frame_fds(spares_fd_, message, fds, 1);
    fcntl(spares_fd_, F_SETFL, flags);
    close(b.host_ctl);
    b.host_ctl = -1;
    if (!sent) {  // dropped
      retire(records_[b.id]);
      records_.erase(b.id);
      return;
    }
    pushed_[b.id] = Pushed{b.config, b.key};
  }

  // The host took pushed spare `id`: its config is being asked again, so make the next one.
  void took(uint64_t id) {
    note_request();
    auto it = pushed_.find(id);
    if (it == pushed_.end()) return;
    Pushed p = std::move(it->second);
    pushed_.erase(it);
    want_shell();
    last_key_ = p.key;
    if (poolable(p.config)) make_spare(p.config, p.key);
  }

  // Drops every sandbox made ahead of time (the host destroys the pushed ones it holds), and
  // makes none until a config repeats again.
  void release(int reply) {
    drop_made_ahead();
    pushed_.clear();
    last_key_.clear();
    pending_spare_.reset();
    shell_due_.reset();
    wire::send_frame(reply, wire::done_reply());
    close(reply);
  }

  // A spare made under spare names takes its own (b.id's).
  void own_names(Building& b) {
    if (!b.spare) return;
    b.spare = false;
    // If a rename fails, the spare names stay taken: make no more spares.
    for (auto& dir : b.rec.group.dirs) {
      std::string renamed = dir.substr(0, dir.rfind('/') + 1) + name_for(b.id);
      if (rename(dir.c_str(), renamed.c_str()) == 0) dir = renamed;
      else pool_broken_ = true;
    }
    if (std::string fresh = rename_to_unique(b.rec.state_dir); !fresh.empty()) {
      b.rec.state_dir = fresh;
      b.upper = fresh + "/upper";
    } else {
      pool_broken_ = true;
    }
  }

  static wire::Made made(const Building& b) {
    wire::Made m;
    m.id = b.id;
    m.init_pid = b.rec.pid;
    m.upper_dir = b.upper;
    m.note = b.note;
    return m;
  }

  // Gives the ready sandbox `b` to the request waiting for it (b.reply, as b.id).
  void hand_out(Building& b) {
    own_names(b);
    records_[b.id] = b.rec;
    wire::send_frame(b.reply, wire::made_reply(made(b)), b.host_ctl);
    close(b.host_ctl);
    close(b.reply);
    b.reply = -1;
    // The next create with the same config is likely (a benchmark, a batch of episodes of one
    // task): make its sandbox now, while the host is busy with this one.
    if (b.refill && poolable(b.config) && b.key == last_key_) make_spare(b.config, b.key);
  }

  bool poolable(const Config& c) const {
    // A tmpfs-backed state dir is a mount point, which cannot be renamed when handed out.
    return c.state_dir.empty() && c.limits.workspace_bytes == 0 && !pool_broken_;
  }

  // One spare per config at most, ready or being made.
  void make_spare(const Config& c, const std::string& key) {
    if (!make_ahead_) return;
    for (const auto& [id, p] : pushed_)
      if (p.key == key) return;
    for (const auto& b : building_)
      if (b.spare && b.reply < 0 && b.key == key) return;
    // Not right away when requests are far apart: the sandbox just handed out is likely running
    // its first command now, and on a small machine the spare's set-up would take the CPU from
    // it. When they come back to back, at once: then throughput is what counts.
    if (!pending_spare_ || pending_spare_->key != key)
      pending_spare_ = PendingSpare{c, key, Clock::now() + std::chrono::milliseconds(back_to_back_ ? 0 : kSpareDelayMs)};
    if (back_to_back_) start_pending_spare();
  }

  // Notes when a sandbox was asked for (made, or taken from the pushed spares).
  void note_request() {
    auto now = Clock::now();
    back_to_back_ = now - last_request_at_ < std::chrono::milliseconds(kBackToBackMs);
    last_request_at_ = now;
  }

  void start_pending_spare() {
    PendingSpare p = std::move(*pending_spare_);
    pending_spare_.reset();
    Building b;
    if (start_build(p.config, p.key, spare_name(), true, &b).empty()) building_.push_back(std::move(b));
  }

  // Renames a spare's state dir to a fresh mkdtemp-style name. (mkdtemp + rename would replace
  // an empty dir, which costs an rmdir: milliseconds on a discard-mounted ext4.) "" on failure.
  std::string rename_to_unique(const std::string& from) {
    static const char kChars[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    for (int attempt = 0; attempt < 100; ++attempt) {
      uint64_t r = 0;
      if (getrandom(&r, sizeof r, GRND_NONBLOCK) != sizeof r) r = (uint64_t(getpid()) << 32) ^ attempt ^ uint64_t(time(nullptr));
      std::string to = temp_base_ + "/swebox-sandbox-";
      for (int i = 0; i < 6; ++i, r /= 62) to += kChars[r % 62];
      if (renameat2(AT_FDCWD, from.c_str(), AT_FDCWD, to.c_str(), RENAME_NOREPLACE) == 0) return to;
      if (errno != EEXIST) return "";
    }
    return "";
  }

  std::string name_for(uint64_t id) const { return "swebox-" + std::to_string(getpid()) + "-" + std::to_string(id); }
  // What is made ahead (shells, spares) is named apart ("...<n>spare") until it is handed out;
  // each name is used once, so that a late teardown can never touch a newer one's cgroups.
  std::string spare_name() { return "swebox-" + std::to_string(getpid()) + "-" + std::to_string(++spares_made_) + "spare"; }

  void create(const Config& c, const std::string& key, int reply) {
    note_request();
    if (!seccomp_error_.empty()) return fail(reply, seccomp_error_);
    if (std::string e = validate(c); !e.empty()) return fail(reply, e);
    uint64_t id = next_id_++;
    // A spare of this config not begun yet is begun now, for this request; one of another config
    // is not wanted any more.
    if (pending_spare_) {
      if (pending_spare_->key == key) start_pending_spare();
      else pending_spare_.reset();
    }
    // (Ready spares were pushed to the host, which takes one without asking.)
    bool again = key == last_key_;
    last_key_ = key;
    // A spare of this config on its way: this request takes it.
    for (auto& b : building_) {
      if (b.spare && b.reply < 0 && b.key == key) {
        b.reply = reply;
        b.id = id;
        b.refill = again;
        return;
      }
    }
    Building b;
    // A shell made ahead serves any config but one whose state is a tmpfs (mounted only now,
    // after the shell's mount namespace was copied).
    Shell shell;
    std::string e = "no shell";
    if (c.limits.workspace_bytes == 0 && take_shell(&shell)) e = assign(shell, c, key, name_for(id), false, &b);
    if (!e.empty()) e = start_build(c, key, name_for(id), false, &b);  // (a shell that failed is gone)
    want_shell();
    if (!e.empty()) return fail(reply, e);
    b.reply = reply;
    b.id = id;
    if (!make_ahead_) return hand_out_starting(b);
    building_.push_back(std::move(b));
    if (again && poolable(c)) make_spare(c, key);
  }

  // A single sandbox goes to its host as soon as its child has its config, with the child's
  // report pipe: the host queues its request at once (init answers it once ready) and reads the
  // report itself, which spares the round trip through us on the way (a wake-up each, which a
  // busy machine makes milliseconds). A failed child exits; its teardown comes with destroy.
  void hand_out_starting(Building& b) {
    records_[b.id] = b.rec;
    int fds[2] = {b.host_ctl, b.ready_fd};
    wire::send_frame_fds(b.reply, wire::made_reply(made(b)), fds, 2);
    for (int fd : fds) close(fd);
    close(b.reply);
  }

  // Started with the first teardown that needs it. None for a single sandbox: its teardown comes
  // after its host is gone, when nobody waits for us.
  int cleaner_queue() {
    if (!cleaner_started_ && make_ahead_) {
      cleaner_started_ = true;
      cleaner_fd_ = cleaner::start();
    }
    return cleaner_fd_;
  }

  void teardown(Record& rec) {
    if (rec.pid > 0 && !rec.reaped) {
      kill(rec.pid, SIGKILL);
      // The pid namespace is gone (every process in it reaped) when its init is.
      while (waitpid(rec.pid, nullptr, 0) < 0 && errno == EINTR) {
      }
      rec.reaped = true;
    }
    cgroup::remove(rec.group);
    if (rec.temp_state && !rec.state_dir.empty()) {
      if (rec.tmpfs_mounted) umount2(rec.state_dir.c_str(), MNT_DETACH);
      cleaner::remove(cleaner_queue(), rec.state_dir);
    } else if (!rec.state_dir.empty()) {
      // A caller's state dir keeps upper/ (the changes), without setuid/setgid bits, in its 0700
      // dir; work/ is overlay scratch.
      std::string upper = rec.state_dir + "/upper";
      int ufd = open(upper.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (ufd >= 0) {
        mounts::strip_setid_bits(ufd);
        close(ufd);
      }
      if (rec.uid) lchown(rec.state_dir.c_str(), 0, 0);
      std::string work = rec.state_dir + "/work";
      int fd = open(work.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      if (fd >= 0) {
        mounts::remove_contents(fd);
        close(fd);
      }
    }
    // Every process of it is gone: its host uid may serve another sandbox.
    if (rec.uid) uids_.give_back(rec.uid);
    rec.uid = 0;
  }

  // Kills the sandbox now; the rest of its teardown follows when its init is reaped (the kernel
  // takes a while to empty a pid namespace), except for a caller's state dir, which must be free
  // (no overlay on it) when destroy returns.
  void retire(Record& rec) {
    if (rec.pid > 0 && !rec.reaped) kill(rec.pid, SIGKILL);
    if (!rec.temp_state || rec.reaped) {
      teardown(rec);
      return;
    }
    dying_.push_back(rec);
  }

  // `ctl`, when the host passed it, is the sandbox's control socket: closed here, after the
  // kill, so that the host never wakes the dying init (whose exit would then run on its CPU).
  void destroy(uint64_t id, int reply, int ctl = -1) {
    auto it = records_.find(id);
    if (it != records_.end()) {
      retire(it->second);
      records_.erase(it);
    }
    if (ctl >= 0) close(ctl);
    if (reply >= 0) {
      wire::send_frame(reply, wire::done_reply());
      close(reply);
    }
  }

  // A sandbox made in direct mode, and what tears it down.
  struct Direct {
    Record rec;
    int init_pidfd = -1;
    int uid_fd = -1;   // our copy of the fd that holds rec.uid
    int go_fd = -1;    // "g": tear down now (the caller waits on done_fd); EOF: the caller is gone
    int done_fd = -1;
    ReadyCleaner* ready = nullptr;  // nullptr: none (destroy_direct tears down itself)
  };

  void prepare_direct_cleaner(Direct& d) {
    d.init_pidfd = static_cast<int>(syscall(SYS_pidfd_open, d.rec.pid, 0));
    if (d.init_pidfd < 0) return;  // (kernel before 5.3) destroy_direct tears down itself
    fcntl(d.init_pidfd, F_SETFD, FD_CLOEXEC);
    ReadyCleaner* slot = nullptr;
    for (auto& c : ready_cleaners)
      if (c.state == ReadyCleaner::kEmpty) {
        slot = &c;
        break;
      }
    if (!slot) return;
    d.uid_fd = d.rec.uid ? uids_.held_fd(d.rec.uid) : -1;
    int go[2], done[2];
    if (pipe2(go, O_CLOEXEC) != 0) return;
    if (pipe2(done, O_CLOEXEC) != 0) {
      close(go[0]);
      close(go[1]);
      return;
    }
    const size_t stack_size = 1 << 20;  // (teardown's directory removal recurses); touched only if used
    void* stack = mmap(nullptr, stack_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
    if (stack == MAP_FAILED) {
      for (int fd : {go[0], go[1], done[0], done[1]}) close(fd);
      return;
    }
    // Never freed: the cleaner may read it after our exit (static destructors included).
    auto* a = new CleanerArgs{this, d.rec, d.init_pidfd, go[0], done[1], {}, cgroup::parent_dirs()};
    a->keep = {go[0], done[1], d.init_pidfd};
    for (int fd : {d.uid_fd, d.rec.group.oom_events_fd})
      if (fd >= 0) a->keep.push_back(fd);
    std::sort(a->keep.begin(), a->keep.end());  // (here: the cleaner must not allocate before its go)
    slot->args = a;
    slot->stack_top = static_cast<char*>(stack) + stack_size;
    slot->pid = -1;
    slot->state = ReadyCleaner::kReady;
    d.ready = slot;
    d.go_fd = go[1];
    d.done_fd = done[0];
  }

  bool direct_ = false;  // in the host's process (start_direct): sandboxes made by create_direct
  int direct_null_ = -1;  // /dev/null, for their first processes' stdio
  process_image::Layout direct_layout_;  // ours, which their first processes share
  std::map<uint64_t, Direct> directs_;

  int host_fd_;
  int spares_fd_;
  bool make_ahead_;  // false: the host makes a single sandbox (expect_single_sandbox)
  std::string temp_base_;  // $TMPDIR or /tmp: where temp state dirs go
  host_uids::Allotter uids_;  // ready spares go to the host here
  int sigchld_fd_ = -1;
  int cleaner_fd_ = -1;
  bool cleaner_started_ = false;
  int mounts_fd_ = -1;
  std::string mount_table_;  // as drain_mountinfo() last read it
  uint64_t next_id_ = 1;
  std::map<uint64_t, Record> records_;
  std::deque<Record> dying_;  // killed, waiting for the rest of their teardown
  std::vector<Building> building_;
  // Spares (sandboxes made ahead for the config last asked twice in a row, temp state only) sent
  // to the host.
  struct Pushed {
    Config config;
    std::string key;
  };
  std::map<uint64_t, Pushed> pushed_;  // sent to the host, not taken yet (also in records_)
  struct PendingSpare {
    Config config;
    std::string key;
    Clock::time_point at;  // when to begin it
  };
  std::optional<PendingSpare> pending_spare_;
  static constexpr int kSpareDelayMs = 2;
  static constexpr int kBackToBackMs = 10;  // requests closer than this come back to back
  Clock::time_point last_request_at_;
  bool back_to_back_ = false;
  std::deque<Shell> shells_;  // made ahead, waiting for a config
  std::optional<Clock::time_point> shell_due_;
  static constexpr size_t kShells = 1;
  uint64_t spares_made_ = 0;
  std::string last_key_;
  bool pool_broken_ = false;
  std::string seccomp_error_;
};


int cleaner_entry(void* args) { return Zygote::direct_cleaner_main(static_cast<CleanerArgs*>(args)); }

}  // namespace

void serve(int host_fd, int spares_fd, bool make_ahead) { Zygote(host_fd, spares_fd, make_ahead).run(); }

namespace {

// Made once, never destroyed: a cleaner may use it after the caller's exit.
Zygote& direct_zygote() {
  static Zygote* z = [] {
    auto* made = new Zygote(-1, -1, false);
    made->start_direct();
    return made;
  }();
  return *z;
}

}  // namespace

Created create_direct(const Config& config) { return direct_zygote().make_direct(config); }

void destroy_direct(uint64_t id, int control_fd, bool wait) { direct_zygote().destroy_direct(id, control_fd, wait); }

}  // namespace swebox::sandbox::zygote
