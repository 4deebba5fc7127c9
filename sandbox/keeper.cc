#include "sandbox/keeper.h"

#include <cerrno>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sandbox/identity.h"
#include "sandbox/mounts.h"
#include "sandbox/prefault.h"
#include "sandbox/seccomp_policy.h"
#include "sandbox/wire.h"

extern char** environ;

namespace swebox::sandbox::keeper {

namespace {

void say(const char* a, const char* b = "", const char* c = "") {
  for (const char* s : {a, b, c}) {
    size_t n = strlen(s);
    if (n && write(2, s, n) < 0) return;
  }
}

// What a command's process does before its command: signals back to their defaults, no
// privileges left. (Until the command arrives there is nowhere to report a failure but the exit
// status.)
void shed_privileges(const Common& common) {
  sigset_t all;
  sigemptyset(&all);
  sigprocmask(SIG_SETMASK, &all, nullptr);
  for (int s = 1; s < NSIG; ++s) signal(s, SIG_DFL);
  if (caps::drop_all() != 0) _exit(126);
  if (seccomp_policy::apply(*common.seccomp) != 0) _exit(126);
}

[[noreturn]] void exec_command(const Common& common, Command& cmd);

// The command's process, made before its command is known: everything that does not depend on
// the command first (signals, limits, no privileges left), then it waits for argv, cwd and fds.
[[noreturn]] void become_command(const Common& common, int launch_fd) {
  shed_privileges(common);

  // Take the page faults the launch would take now, while nobody waits (see prefault.h).
  if (common.warm_up) {
    std::vector<std::string> warm(64, std::string(200, 'w'));
    std::string big(64 << 10, 'w');
  }
  std::string body;
  body.reserve(16 << 10);
  std::vector<int> fds;
  fds.reserve(wire::kMaxFds);
  if (!wire::recv_frame_fds(launch_fd, &body, -1, &fds)) _exit(127);  // init discarded the slot
  Command cmd;
  try {
    wire::Reader r(body);
    wire::read_launch_message(r, &cmd.argv, &cmd.cwd);
  } catch (...) {
    _exit(126);
  }
  if (cmd.argv.empty()) _exit(126);
  cmd.fds = fds;
  exec_command(common, cmd);
}

// Puts the command's fds in place and runs it.
void exec_command(const Common& common, Command& cmd) {
  const std::vector<int>& fds = cmd.fds;
  // Move the passed fds out of the way first, then into 0..n-1; close everything else.
  int n = static_cast<int>(fds.size());
  int moved[wire::kMaxFds];
  for (int i = 0; i < n; ++i) moved[i] = fcntl(fds[i], F_DUPFD_CLOEXEC, n);
  for (int i = 0; i < n; ++i) dup2(moved[i], i);
  syscall(SYS_close_range, n, ~0U, 0);
  // After the fds are in place: a low open-files limit would stop the moves above. (Limits are
  // only ever lowered, which needs no capability.)
  rlimits::apply(*common.limits, common.memory_cgroup, common.pids_cgroup);

  if (chdir(cmd.cwd.c_str()) != 0) {
    say("swebox: cannot change directory to ", cmd.cwd.c_str(), "\n");
    _exit(126);
  }
  std::vector<char*> argv, envp;
  for (auto& a : cmd.argv) argv.push_back(a.data());
  argv.push_back(nullptr);
  for (const auto& e : common.env) envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);
  environ = envp.data();
  execvp(argv[0], argv.data());
  int e = errno;
  say("swebox: cannot run '", argv[0], "': ");
  say(strerror(e), "\n");
  _exit(e == ENOENT ? 127 : 126);
}

struct CommandArgs {
  const Common* common;
  int launch_fd;
};

int command_main(void* p) {
  auto* args = static_cast<CommandArgs*>(p);
  // Keep only stdio (replaced at launch) and the launch socket while waiting.
  int fd = args->launch_fd;
  syscall(SYS_close_range, 3, fd - 1, 0);
  syscall(SYS_close_range, fd + 1, ~0U, 0);
  become_command(*args->common, fd);
}

}  // namespace

Slot prepare(const Common& common, std::string* error) {
  int status_pipe[2], launch[2];
  if (pipe2(status_pipe, O_CLOEXEC) != 0) {
    *error = std::string("pipe: ") + strerror(errno);
    return {};
  }
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, launch) != 0) {
    *error = std::string("socketpair: ") + strerror(errno);
    close(status_pipe[0]);
    close(status_pipe[1]);
    return {};
  }
  const long flags = CLONE_NEWPID | (common.share_mounts ? 0 : CLONE_NEWNS) | SIGCHLD;
  long pid = syscall(SYS_clone, flags, nullptr, nullptr, nullptr, 0);
  if (pid < 0) {
    *error = std::string("clone of the command's keeper: ") + strerror(errno);
    for (int fd : {status_pipe[0], status_pipe[1], launch[0], launch[1]}) close(fd);
    return {};
  }
  if (pid == 0) {
    // The keeper: pid 1 of the command's namespace, with a /proc that shows only it.
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (!common.share_mounts) {
      mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr);
      // Init's handles on the workspace layers are not for the command.
      umount2(mounts::kLayersDir, MNT_DETACH);
    }
    // The command, not init or the keeper, is what the OOM killer should pick.
    int adj = open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);
    if (adj >= 0) {
      if (write(adj, "500", 3) < 0) {}
      close(adj);
    }
    // The command's process shares this keeper's memory until its execve (the keeper only
    // waits meanwhile): no copy of the keeper's pages to make now, and above all none to tear
    // down at execve, which is on the command's critical path (~0.2 ms for a few MiB).
    const size_t stack_size = 512 << 10;
    void* stack = mmap(nullptr, stack_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
    CommandArgs args{&common, launch[1]};
    pid_t child = stack == MAP_FAILED
                      ? -1
                      : clone(command_main, static_cast<char*>(stack) + stack_size, CLONE_VM | SIGCHLD, &args);
    int report = status_pipe[1];
    // Hold nothing of init's: only the status pipe stays.
    for (int fd = 0; fd < 3; ++fd) close(fd);
    if (report > 3) syscall(SYS_close_range, 3, report - 1, 0);
    syscall(SYS_close_range, report + 1, ~0U, 0);
    int status = 0;
    if (child < 0) status = 127 << 8;
    while (child > 0) {
      int st;
      pid_t r = waitpid(-1, &st, 0);
      if (r == child) {
        status = st;
        break;
      }
      if (r < 0 && errno == ECHILD) break;
    }
    // What the command left running (background jobs, daemons: all in this pid namespace, so
    // all ours to reap) dies before the status goes out, so that "the command ended" means
    // everything it started is gone; init need not wait for this keeper's own exit.
    for (;;) {
      kill(-1, SIGKILL);
      if (waitpid(-1, nullptr, 0) < 0 && errno == ECHILD) break;
    }
    if (write(report, &status, sizeof status) < 0) {}
    // Our exit (tearing down this pid and mount namespace) is cleanup nobody waits for: let init
    // answer and the caller take the CPU first.
    sched_yield();
    _exit(0);
  }
  close(status_pipe[1]);
  close(launch[1]);
  return {{static_cast<pid_t>(pid), status_pipe[0]}, launch[0]};
}

namespace {

struct UnkeptArgs {
  const Common* common;
  Command* command;
};

int unkept_main(void* p) {
  auto* a = static_cast<UnkeptArgs*>(p);
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  // The command, not init, is what the OOM killer should pick.
  int adj = open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);
  if (adj >= 0) {
    if (write(adj, "500", 3) < 0) {}
    close(adj);
  }
  shed_privileges(*a->common);
  exec_command(*a->common, *a->command);
}

}  // namespace

Handle start_unkept(const Common& common, Command command, std::string* error) {
  if (command.argv.empty()) {
    *error = "empty argv";
    return {};
  }
  if (command.fds.size() > wire::kMaxFds) {
    *error = "too many fds for a command";
    return {};
  }
  // The command's process shares init's memory until its execve, and init waits meanwhile
  // (CLONE_VM | CLONE_VFORK): no copy of init's page tables to make, no copy-on-write fault on
  // either side (in a VM, each costs tens of microseconds), and nobody else runs this memory.
  const size_t stack_size = 512 << 10;
  void* stack = mmap(nullptr, stack_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
  if (stack == MAP_FAILED) {
    *error = std::string("mmap of the command's stack: ") + strerror(errno);
    return {};
  }
  UnkeptArgs args{&common, &command};
  pid_t pid = clone(unkept_main, static_cast<char*>(stack) + stack_size, CLONE_VM | CLONE_VFORK | SIGCHLD, &args);
  int e = errno;
  munmap(stack, stack_size);  // (the child has exec'd or exited by now)
  if (pid < 0) {
    *error = std::string("clone of the command: ") + strerror(e);
    return {};
  }
  return {pid, -1};
}

bool launch(Slot& slot, const Command& command, std::string* error) {
  if (command.argv.empty()) {
    *error = "empty argv";
    return false;
  }
  if (command.fds.size() > wire::kMaxFds) {
    *error = "too many fds for a command";
    return false;
  }
  std::string framed = wire::launch_message(command.argv, command.cwd);
  bool ok = wire::send_frame_fds(slot.launch_fd, framed, command.fds.data(), command.fds.size());
  if (!ok) *error = std::string("the command's keeper is gone: ") + strerror(errno);
  close(slot.launch_fd);
  slot.launch_fd = -1;
  return ok;
}

void discard(Slot& slot) {
  if (slot.keeper.pid > 0) kill(slot.keeper.pid, SIGKILL);
  for (int fd : {slot.keeper.status_fd, slot.launch_fd})
    if (fd >= 0) close(fd);
  slot = Slot{};
}

}  // namespace swebox::sandbox::keeper
