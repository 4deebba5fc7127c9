// The host side of the native backend: a Sandbox whose requests go to the sandbox's init over a
// socket. Every request gets its own reply socket, so blocking calls need no io_context and
// async calls need no thread (the reply socket is read by the io_context).
#include "sandbox/native_sandbox.h"

#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/read.hpp>
#include <cerrno>
#include <cstring>
#include <csignal>
#include <chrono>
#include <mutex>
#include <poll.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "sandbox/wire.h"
#include "sandbox/zygote.h"

namespace swebox::sandbox {

namespace {

std::mutex notes_mu;
std::vector<std::string> notes;

void remember_note(const std::string& note) {
  if (note.empty()) return;
  std::lock_guard lock(notes_mu);
  for (const auto& n : notes)
    if (n == note) return;
  notes.push_back(note);
}

ExecResult decode_result(const std::string& body) {
  wire::Reader r(body);
  return wire::read_result_reply(r);
}

ExecResult error_result(const std::string& why) {
  ExecResult r;
  r.reason = StopReason::error;
  r.detail = why;
  return r;
}

// How long past a command's own timeout the host waits for init before giving up on it.
constexpr double kReplyGraceS = 30;

int reply_wait_ms(double timeout_s) {
  if (timeout_s <= 0) return -1;
  double ms = (timeout_s + kReplyGraceS) * 1000;
  return ms > 2e9 ? -1 : static_cast<int>(ms);
}

}  // namespace

void release_spare_sandboxes() { zygote::release_spares(); }

void start_native_backend() { zygote::start(); }

void expect_single_sandbox() { zygote::make_single_sandbox(); }

std::vector<std::string> native_sandbox_notes() {
  std::lock_guard lock(notes_mu);
  return notes;
}

NativeSandbox::NativeSandbox(boost::asio::io_context& io, const Config& config) : io_(io), config_(config) {
  zygote::Created c = zygote::create(config);
  id_ = c.id;
  init_pid_ = c.init_pid;
  control_fd_ = c.control_fd;
  starting_fd_ = c.starting_fd;
  upper_dir_ = c.upper_dir;
  remember_note(c.note);
  init_pidfd_ = static_cast<int>(syscall(SYS_pidfd_open, init_pid_, 0));
}

NativeSandbox::~NativeSandbox() { destroy(); }

int NativeSandbox::send(const std::string& framed) {
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) return -1;
  bool ok;
  {
    std::lock_guard lock(mu_);
    ok = control_fd_ >= 0 && wire::send_frame(control_fd_, framed, sv[1]);
  }
  close(sv[1]);
  if (!ok) {
    close(sv[0]);
    return -1;
  }
  return sv[0];
}

bool NativeSandbox::await_start(int reply_fd, int timeout_ms) {
  std::lock_guard lock(start_mu_);  // (not mu_: requests may still be sent meanwhile)
  if (starting_fd_ < 0) return setup_error_.empty();
  pollfd p[2] = {{starting_fd_, POLLIN, 0}, {reply_fd, POLLIN, 0}};
  int n;
  while ((n = poll(p, 2, timeout_ms)) < 0 && errno == EINTR) {
  }
  if (n == 0) return false;  // neither within the caller's limit
  if (n < 0 || !(p[0].revents & (POLLIN | POLLHUP))) return true;  // the reply came first
  char buf[1024];
  ssize_t got = read(starting_fd_, buf, sizeof buf);
  close(starting_fd_);
  starting_fd_ = -1;
  if (got == 1 && buf[0] == 'R') return true;
  setup_error_ = "cannot create the sandbox: sandbox setup failed: " +
                 (got > 1 ? std::string(buf + 1, got - 1) : std::string("the sandbox died while starting"));
  return false;
}

std::string NativeSandbox::failure(const std::string& otherwise) {
  std::lock_guard lock(start_mu_);
  return setup_error_.empty() ? otherwise : setup_error_;
}

bool NativeSandbox::call(const std::string& framed, std::string* reply, int timeout_ms) {
  int fd = send(framed);
  if (fd < 0) return false;
  bool ok = await_start(fd, timeout_ms) && wire::recv_frame(fd, reply, timeout_ms);
  close(fd);
  return ok;
}

void NativeSandbox::async_call(std::string framed, std::function<void(bool, std::string)> done) {
  int fd = send(framed);
  if (fd < 0) {
    boost::asio::post(io_, [done = std::move(done)] { done(false, ""); });
    return;
  }
  using Socket = boost::asio::local::stream_protocol::socket;
  struct State {
    Socket socket;
    uint32_t len = 0;
    std::string body;
    std::function<void(bool, std::string)> done;
    State(boost::asio::io_context& io) : socket(io) {}
  };
  auto st = std::make_shared<State>(io_);
  st->done = std::move(done);
  boost::system::error_code ec;
  st->socket.assign(boost::asio::local::stream_protocol(), fd, ec);
  if (ec) {
    close(fd);
    boost::asio::post(io_, [st] { st->done(false, ""); });
    return;
  }
  boost::asio::async_read(st->socket, boost::asio::buffer(&st->len, sizeof st->len),
                          [st](const boost::system::error_code& ec, size_t) {
                            if (ec) return st->done(false, "");
                            st->body.resize(st->len);
                            boost::asio::async_read(st->socket, boost::asio::buffer(st->body),
                                                    [st](const boost::system::error_code& ec, size_t) {
                                                      if (ec) return st->done(false, "");
                                                      st->done(true, std::move(st->body));
                                                    });
                          });
}

void NativeSandbox::async_run(std::string command, double timeout_s, ExecHandler done) {
  async_call(wire::run_request(command, timeout_s), [done = std::move(done)](bool ok, std::string body) {
    done(ok ? decode_result(body) : error_result("the sandbox is gone (destroyed, or its init died)"));
  });
}

void NativeSandbox::async_exec(ExecRequest request, ExecHandler done) {
  async_call(wire::exec_request(request), [done = std::move(done)](bool ok, std::string body) {
    done(ok ? decode_result(body) : error_result("the sandbox is gone (destroyed, or its init died)"));
  });
}

ExecResult NativeSandbox::run(std::string command, double timeout_s) {
  std::string body;
  if (!call(wire::run_request(command, timeout_s), &body, reply_wait_ms(timeout_s)))
    return error_result(failure("the sandbox did not answer (destroyed, or its init died)"));
  return decode_result(body);
}

ExecResult NativeSandbox::exec(ExecRequest request) {
  std::string body;
  if (!call(wire::exec_request(request), &body, reply_wait_ms(request.timeout_s)))
    return error_result(failure("the sandbox did not answer (destroyed, or its init died)"));
  return decode_result(body);
}

std::variant<std::string, FileError> NativeSandbox::read_file(const std::string& path) {
  std::string body, data, error;
  if (!call(wire::read_file_request(path), &body, 60000)) return FileError{"the sandbox is gone: cannot read " + path};
  wire::Reader r(body);
  if (!wire::read_status_reply(r, &error, &data)) return FileError{error};
  return data;
}

std::optional<FileError> NativeSandbox::write_file(const std::string& path, const std::string& data,
                                                   bool create_only) {
  std::string body, error;
  if (!call(wire::write_file_request(path, data, create_only), &body, 60000))
    return FileError{"the sandbox is gone: cannot write " + path};
  wire::Reader r(body);
  if (!wire::read_status_reply(r, &error)) return FileError{error};
  return std::nullopt;
}

std::variant<std::vector<DirEntry>, FileError> NativeSandbox::list_dir(const std::string& path) {
  std::string body, error;
  if (!call(wire::list_dir_request(path), &body, 60000)) return FileError{"the sandbox is gone: cannot list " + path};
  wire::Reader r(body);
  std::vector<DirEntry> out;
  if (!wire::read_list_dir_reply(r, &out, &error)) return FileError{error};
  return out;
}

bool NativeSandbox::exists(const std::string& path) {
  std::string body;
  if (!call(wire::exists_request(path), &body, 60000)) return false;
  wire::Reader r(body);
  return wire::read_exists_reply(r);
}

std::string NativeSandbox::upper_dir() const { return upper_dir_; }

std::string NativeSandbox::merged_view() const {
  if (init_pid_ <= 0) return "";
  return "/proc/" + std::to_string(init_pid_) + "/root" + config_.workspace_mount;
}

// Killing init ends the sandbox's pid namespace: the kernel kills every other process in it and
// reaps them before init itself is dead, so when init's pidfd turns readable, nothing of the agent
// runs. The zygote reaps init; the state dir stays until destroy().
void NativeSandbox::stop_processes() {
  using namespace std::chrono;
  constexpr auto kGrace = seconds(30);  // a process stuck in the kernel may take a while to die
  int pidfd;
  pid_t pid;
  {
    std::lock_guard lock(mu_);
    pidfd = init_pidfd_;
    pid = init_pid_;
  }
  if (pid <= 0) return;  // destroyed
  auto deadline = steady_clock::now() + kGrace;
  if (pidfd < 0) {  // no pidfd (kernel before 5.3): the pid, which the zygote does not reap before destroy()
    kill(pid, SIGKILL);
    while (kill(pid, 0) == 0 && steady_clock::now() < deadline) usleep(2000);
    return;
  }
  if (syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, nullptr, 0) != 0 && errno != ESRCH)
    throw SandboxError(std::string("cannot stop the sandbox's processes: ") + strerror(errno));
  for (;;) {
    int left = static_cast<int>(duration_cast<milliseconds>(deadline - steady_clock::now()).count());
    if (left <= 0) throw SandboxError("the sandbox's processes did not end within 30 s of SIGKILL");
    pollfd p{pidfd, POLLIN, 0};
    int n = poll(&p, 1, left);
    if (n > 0) return;
    if (n < 0 && errno != EINTR) throw SandboxError(std::string("waiting for the sandbox to stop: ") + strerror(errno));
  }
}

void NativeSandbox::reset() {
  std::string body;
  if (!call(wire::reset_request(), &body, 120000)) throw SandboxError("reset: the sandbox is gone");
  wire::Reader r(body);
  std::string error;
  if (!wire::read_status_reply(r, &error)) throw SandboxError("reset failed: " + error);
}

void NativeSandbox::destroy() {
  int fd;
  {
    std::lock_guard lock(mu_);
    fd = control_fd_;
    control_fd_ = -1;
  }
  if (fd < 0) return;
  // The zygote kills the sandbox, then closes its control socket (had we closed it, init would
  // wake up here to exit). A caller's state dir must be free of the overlay when we return; a
  // temp one is the zygote's to clean.
  zygote::destroy(id_, fd, !config_.state_dir.empty());
  std::lock_guard lock(mu_);
  init_pid_ = -1;
  if (init_pidfd_ >= 0) close(init_pidfd_);
  init_pidfd_ = -1;
  std::lock_guard start_lock(start_mu_);
  if (starting_fd_ >= 0) close(starting_fd_);
  starting_fd_ = -1;
}

std::unique_ptr<Sandbox> make_native_sandbox(boost::asio::io_context& io, const Config& config) {
  return std::make_unique<NativeSandbox>(io, config);
}

}  // namespace swebox::sandbox
