// The host side of the zygote (zygote.h): starts it, sends it requests, takes the sandboxes it
// made ahead. The zygote process itself is zygote_process.cc.
#include "sandbox/zygote.h"

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <mutex>
#include <optional>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

#include "sandbox/wire.h"
#include "sandbox/zygote_process.h"

namespace swebox::sandbox::zygote {

namespace {

std::string errno_text(const std::string& what) { return what + ": " + strerror(errno); }

struct Client {
  std::mutex mu;
  int fd = -1;         // requests
  int spares_fd = -1;  // sandboxes made ahead of time, pushed by the zygote
  pid_t pid = -1;
  bool make_ahead = true;  // false once the host said it makes a single sandbox
  // A single sandbox is made by the host itself (create_direct): these ids are such sandboxes.
  std::vector<uint64_t> direct_ids;
};

Client& client() {
  static Client c;
  return c;
}

// Starts the zygote (once per host process, and again if it died).
int zygote_fd_locked(Client& c) {
  if (c.fd >= 0) return c.fd;
  int sv[2], sp[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) throw SandboxError(errno_text("socketpair"));
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) != 0) {
    close(sv[0]);
    close(sv[1]);
    throw SandboxError(errno_text("socketpair"));
  }
  pid_t pid = fork();
  if (pid < 0) throw SandboxError(errno_text("fork of the sandbox zygote"));
  if (pid == 0) {
    // Hold nothing of the host's but the sockets (as fds 3 and 4); ignore the terminal's signals
    // so that a Ctrl-C of the host still lets us clean up when its socket closes.
    int a = fcntl(sv[1], F_DUPFD_CLOEXEC, 10), b = fcntl(sp[1], F_DUPFD_CLOEXEC, 10);
    dup3(a, 3, O_CLOEXEC);
    dup3(b, 4, O_CLOEXEC);
    syscall(SYS_close_range, 5, ~0U, 0);
    int null = open("/dev/null", O_RDWR);
    for (int i = 0; i < 3; ++i) dup2(null, i);
    if (null > 4) close(null);
    for (int s : {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGPIPE}) signal(s, SIG_IGN);
    setsid();
    prctl(PR_SET_NAME, "swebox-zygote");
    serve(3, 4, c.make_ahead);
  }
  close(sv[1]);
  close(sp[1]);
  c.fd = sv[0];
  c.spares_fd = sp[0];
  c.pid = pid;
  return c.fd;
}

void forget_zygote_locked(Client& c) {
  close(c.fd);
  close(c.spares_fd);
  c.fd = c.spares_fd = -1;
  waitpid(c.pid, nullptr, WNOHANG);
}

// Sends a request, with a fresh reply socket when `want_reply`; returns the reply socket (-1
// when none, or when the zygote cannot be reached).
int send_request_locked(Client& c, const std::string& framed, bool want_reply = true) {
  for (int attempt = 0; attempt < 2; ++attempt) {
    int zfd = zygote_fd_locked(c);
    int sv[2] = {-1, -1};
    if (want_reply && socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
      throw SandboxError(errno_text("socketpair"));
    bool ok = wire::send_frame(zfd, framed, sv[1]);
    if (sv[1] >= 0) close(sv[1]);
    if (ok) return sv[0];
    if (sv[0] >= 0) close(sv[0]);
    // The zygote died: forget it and start another.
    forget_zygote_locked(c);
  }
  return -1;
}

// A sandbox the zygote made ahead of time and pushed.
struct Pushed {
  Created created;
  std::string key;
};

// Reads what the zygote pushed so far, without waiting.
std::vector<Pushed> drain_pushed_locked(Client& c) {
  std::vector<Pushed> out;
  while (c.spares_fd >= 0) {
    pollfd p{c.spares_fd, POLLIN, 0};
    if (poll(&p, 1, 0) <= 0) break;
    std::string body;
    int ctl = -1;
    // A frame is sent whole: once readable, it is all there.
    if (!wire::recv_frame(c.spares_fd, &body, 1000, &ctl)) break;
    wire::Reader r(body);
    Pushed s;
    wire::Made m = wire::read_spare_message(r, &s.key);
    s.created = {m.id, static_cast<pid_t>(m.init_pid), ctl, m.upper_dir, m.note};
    out.push_back(std::move(s));
  }
  return out;
}

// Sends kDestroy for `id`, passing the sandbox's control socket `ctl` (closed here after) and,
// when `wait`, a reply socket that is returned (else -1).
int send_destroy_locked(Client& c, uint64_t id, int ctl, bool wait) {
  int sv[2] = {-1, -1};
  if (wait && socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) wait = false;
  std::string framed = wire::destroy_request(id, wait, ctl >= 0);
  std::vector<int> fds;
  if (wait) fds.push_back(sv[1]);
  if (ctl >= 0) fds.push_back(ctl);
  bool ok = c.fd >= 0 && wire::send_frame_fds(c.fd, framed, fds.data(), fds.size());
  if (ctl >= 0) close(ctl);
  if (sv[1] >= 0) close(sv[1]);
  if (!ok && sv[0] >= 0) {
    close(sv[0]);
    sv[0] = -1;
  }
  return sv[0];
}

void drop_pushed_locked(Client& c, Pushed& s) {
  send_destroy_locked(c, s.created.id, s.created.control_fd, false);
}

}  // namespace

Created create(const Config& config) {
  {
    Client& c = client();
    std::lock_guard lock(c.mu);
    if (!c.make_ahead && c.fd < 0) {
      Created made = create_direct(config);
      c.direct_ids.push_back(made.id);
      return made;
    }
  }
  std::string framed = wire::create_request(config);
  std::string key = framed.substr(sizeof(uint32_t) + sizeof(uint64_t));  // the config's bytes
  Client& c = client();
  int fd;
  {
    std::lock_guard lock(c.mu);
    zygote_fd_locked(c);
    // A sandbox made ahead of time for this config is taken with no round trip; the zygote
    // hears of it after the fact (and makes the next one).
    std::optional<Created> taken;
    for (auto& s : drain_pushed_locked(c)) {
      if (!taken && s.key == key && s.created.control_fd >= 0) {
        taken = s.created;
        send_request_locked(c, wire::took_request(s.created.id), false);
      } else {
        drop_pushed_locked(c, s);
      }
    }
    if (taken) return *taken;
    fd = send_request_locked(c, framed);
  }
  if (fd < 0) throw SandboxError("the sandbox zygote is not answering");
  std::string body;
  std::vector<int> fds;  // the control socket, and a single sandbox's report pipe
  bool ok = wire::recv_frame_fds(fd, &body, -1, &fds);
  close(fd);
  auto close_fds = [&] {
    for (int f : fds) close(f);
  };
  if (!ok) {
    close_fds();
    throw SandboxError("the sandbox zygote died while creating a sandbox");
  }
  wire::Reader r(body);
  wire::Made m;
  std::string why;
  if (!wire::read_made_reply(r, &m, &why)) {
    close_fds();
    throw SandboxError(why);
  }
  if (fds.empty() || fds.size() > 2) {
    close_fds();
    throw SandboxError("the sandbox zygote sent " + std::to_string(fds.size()) +
                       " fds, not a control socket (and a report pipe)");
  }
  Created out{m.id, static_cast<pid_t>(m.init_pid), fds[0], m.upper_dir, m.note};
  if (fds.size() == 2) out.starting_fd = fds[1];
  return out;
}

void destroy(uint64_t id, int control_fd, bool wait) {
  int fd;
  {
    Client& c = client();
    std::lock_guard lock(c.mu);
    if (auto it = std::find(c.direct_ids.begin(), c.direct_ids.end(), id); it != c.direct_ids.end()) {
      c.direct_ids.erase(it);
      destroy_direct(id, control_fd, wait);
      return;
    }
    fd = send_destroy_locked(c, id, control_fd, wait);
  }
  if (fd < 0) return;
  std::string body;
  wire::recv_frame(fd, &body, -1);
  close(fd);
}

void make_single_sandbox() {
  Client& c = client();
  std::lock_guard lock(c.mu);
  c.make_ahead = false;
}

void start() {
  Client& c = client();
  std::lock_guard lock(c.mu);
  zygote_fd_locked(c);
}

void release_spares() {
  Client& c = client();
  int fd;
  {
    std::lock_guard lock(c.mu);
    if (c.fd < 0) return;
    for (auto& s : drain_pushed_locked(c)) drop_pushed_locked(c, s);
    fd = send_request_locked(c, wire::release_request());
  }
  if (fd < 0) return;
  std::string body;
  wire::recv_frame(fd, &body, -1);
  close(fd);
  // Pushed in the meantime (a build that ended just before the release): dropped too.
  std::lock_guard lock(c.mu);
  for (auto& s : drain_pushed_locked(c)) drop_pushed_locked(c, s);
}

}  // namespace swebox::sandbox::zygote
