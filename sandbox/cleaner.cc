#include "sandbox/cleaner.h"

#include <cerrno>
#include <climits>
#include <csignal>
#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sandbox/mounts.h"

namespace swebox::sandbox::cleaner {

namespace {

void remove_now(const std::string& path) {
  int fd = open(path.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd >= 0) {
    mounts::remove_contents(fd);
    close(fd);
  }
  rmdir(path.c_str());
}

[[noreturn]] void serve(int queue) {
  std::string pending;
  char buf[4096];
  for (;;) {
    ssize_t n = read(queue, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) _exit(0);  // the zygote is gone and everything queued is done
    pending.append(buf, n);
    size_t nul;
    while ((nul = pending.find('\0')) != std::string::npos) {
      remove_now(pending.substr(0, nul));
      pending.erase(0, nul + 1);
    }
  }
}

}  // namespace

int start() {
  int q[2];
  if (pipe2(q, O_CLOEXEC) != 0) return -1;
  pid_t pid = fork();
  if (pid < 0) {
    close(q[0]);
    close(q[1]);
    return -1;
  }
  if (pid == 0) {
    // Double fork: the cleaner is nobody's child to reap, and outlives the zygote to finish.
    if (fork() != 0) _exit(0);
    int keep = q[0];
    syscall(SYS_close_range, 3, keep - 1, 0);
    syscall(SYS_close_range, keep + 1, ~0U, 0);
    prctl(PR_SET_NAME, "swebox-cleaner");
    serve(keep);
  }
  close(q[0]);
  while (waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
  }
  return q[1];
}

void remove(int queue_fd, const std::string& path) {
  if (queue_fd >= 0) {
    std::string item = path + '\0';
    // Writes up to PIPE_BUF are atomic; a path is far shorter.
    if (item.size() <= PIPE_BUF && write(queue_fd, item.data(), item.size()) == static_cast<ssize_t>(item.size()))
      return;
  }
  remove_now(path);
}

}  // namespace swebox::sandbox::cleaner
