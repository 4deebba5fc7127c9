#include "sandbox/wire.h"

#include <cerrno>
#include <chrono>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>
#include <vector>

namespace swebox::sandbox::wire {

bool send_frame(int fd, const std::string& framed, int pass_fd) {
  return pass_fd >= 0 ? send_frame_fds(fd, framed, &pass_fd, 1) : send_frame_fds(fd, framed, nullptr, 0);
}

bool send_frame_fds(int fd, const std::string& framed, const int* fds, size_t nfds) {
  size_t off = 0;
  if (nfds > kMaxFds) return false;
  if (nfds) {
    // The fds ride with the first byte.
    char control[CMSG_SPACE(sizeof(int) * kMaxFds)] = {};
    iovec iov{const_cast<char*>(framed.data()), framed.size()};
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
    cmsghdr* c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
    std::memcpy(CMSG_DATA(c), fds, sizeof(int) * nfds);
    ssize_t n;
    do n = sendmsg(fd, &msg, MSG_NOSIGNAL);
    while (n < 0 && errno == EINTR);
    if (n <= 0) return false;
    off = n;
  }
  while (off < framed.size()) {
    ssize_t n = send(fd, framed.data() + off, framed.size() - off, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) {
      pollfd p{fd, POLLOUT, 0};
      poll(&p, 1, -1);
      continue;
    }
    if (n <= 0) return false;
    off += n;
  }
  return true;
}

namespace {
// Waits for readability; false on timeout.
bool wait_readable(int fd, std::chrono::steady_clock::time_point deadline, bool forever) {
  for (;;) {
    int ms = -1;
    if (!forever) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()).count();
      if (left <= 0) return false;
      ms = left > 1'000'000'000 ? 1'000'000'000 : static_cast<int>(left);
    }
    pollfd p{fd, POLLIN, 0};
    int r = poll(&p, 1, ms);
    if (r > 0) return true;
    if (r < 0 && errno != EINTR) return false;
  }
}
}  // namespace

bool recv_frame(int fd, std::string* body, int timeout_ms, int* fd_out) {
  if (fd_out) *fd_out = -1;
  std::vector<int> fds;
  bool ok = recv_frame_fds(fd, body, timeout_ms, &fds);
  // Only the first passed fd is wanted here.
  for (size_t i = 0; i < fds.size(); ++i) {
    if (i == 0 && fd_out) *fd_out = fds[i];
    else close(fds[i]);
  }
  return ok;
}

bool recv_frame_fds(int fd, std::string* body, int timeout_ms, std::vector<int>* fds) {
  bool forever = timeout_ms < 0;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(forever ? 0 : timeout_ms);
  uint32_t len = 0;
  size_t got = 0;
  char* hdr = reinterpret_cast<char*>(&len);
  while (got < sizeof len) {
    if (!wait_readable(fd, deadline, forever)) return false;
    char control[CMSG_SPACE(sizeof(int) * kMaxFds)] = {};
    iovec iov{hdr + got, sizeof len - got};
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    ssize_t n = recvmsg(fd, &msg, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (n <= 0) return false;
    for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
      if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
        size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        for (size_t i = 0; i < count; ++i) {
          int passed;
          std::memcpy(&passed, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
          fds->push_back(passed);
        }
      }
    }
    got += n;
  }
  body->resize(len);
  got = 0;
  while (got < len) {
    ssize_t n = recv(fd, body->data() + got, len - got, MSG_DONTWAIT);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) {
      if (!wait_readable(fd, deadline, forever)) return false;
      continue;
    }
    if (n <= 0) return false;
    got += n;
  }
  return true;
}

// --- messages --------------------------------------------------------------------------------

void put_config(Writer& w, const Config& c) {
  w.str(c.rootfs).strs(c.system_paths).strs(c.workspace_lowers).str(c.workspace_mount).str(c.state_dir);
  w.u64(static_cast<uint64_t>(c.network));
  const Limits& l = c.limits;
  w.u64(l.memory_bytes).u64(l.pids).f64(l.cpus).u64(l.output_bytes).u64(l.file_size_bytes).u64(l.open_files);
  w.u64(l.tmp_bytes).u64(l.workspace_bytes);
  w.u64(c.env.size());
  for (const auto& [k, v] : c.env) w.str(k).str(v);
  w.u64(c.binds.size());
  for (const auto& b : c.binds) w.str(b.host_path).str(b.sandbox_path).u64(b.writable);
  w.str(c.hostname).str(c.docker_image);
}

Config read_config(Reader& r) {
  Config c;
  c.rootfs = r.str();
  c.system_paths = r.strs();
  c.workspace_lowers = r.strs();
  c.workspace_mount = r.str();
  c.state_dir = r.str();
  c.network = static_cast<Network>(r.u64());
  Limits& l = c.limits;
  l.memory_bytes = r.u64();
  l.pids = r.u64();
  l.cpus = r.f64();
  l.output_bytes = r.u64();
  l.file_size_bytes = r.u64();
  l.open_files = r.u64();
  l.tmp_bytes = r.u64();
  l.workspace_bytes = r.u64();
  for (uint64_t n = r.u64(); n; --n) {
    std::string k = r.str();
    c.env.emplace_back(k, r.str());
  }
  for (uint64_t n = r.u64(); n; --n) {
    Bind b;
    b.host_path = r.str();
    b.sandbox_path = r.str();
    b.writable = r.u64();
    c.binds.push_back(b);
  }
  c.hostname = r.str();
  c.docker_image = r.str();
  return c;
}

std::string create_request(const Config& c) {
  Writer w;
  w.u64(kCreate);
  put_config(w, c);
  return w.frame();
}

std::string destroy_request(uint64_t id, bool with_reply, bool with_ctl) {
  return Writer().u64(kDestroy).u64(id).u64(with_reply).u64(with_ctl).frame();
}

DestroyRequest read_destroy_request(Reader& r) {
  DestroyRequest d;
  d.id = r.u64();
  d.with_reply = r.u64();
  d.with_ctl = r.u64();
  return d;
}

std::string took_request(uint64_t id) { return Writer().u64(kTook).u64(id).frame(); }
uint64_t read_took_request(Reader& r) { return r.u64(); }
std::string release_request() { return Writer().u64(kRelease).frame(); }
std::string done_reply() { return Writer().u64(1).frame(); }

std::string made_reply(const Made& m) {
  return Writer().u64(1).u64(m.id).u64(static_cast<uint64_t>(m.init_pid)).str(m.upper_dir).str(m.note).frame();
}

std::string failed_reply(const std::string& why) { return Writer().u64(0).str(why).frame(); }

bool read_made_reply(Reader& r, Made* m, std::string* why) {
  if (!r.u64()) {
    *why = r.str();
    return false;
  }
  m->id = r.u64();
  m->init_pid = static_cast<int64_t>(r.u64());
  m->upper_dir = r.str();
  m->note = r.str();
  return true;
}

std::string spare_message(const Made& m, const std::string& key) {
  return Writer().u64(m.id).u64(static_cast<uint64_t>(m.init_pid)).str(m.upper_dir).str(m.note).str(key).frame();
}

Made read_spare_message(Reader& r, std::string* key) {
  Made m;
  m.id = r.u64();
  m.init_pid = static_cast<int64_t>(r.u64());
  m.upper_dir = r.str();
  m.note = r.str();
  *key = r.str();
  return m;
}

std::string assignment(const Config& c, const std::string& state_dir) {
  Writer w;
  put_config(w, c);
  w.str(state_dir);
  return w.frame();
}

void read_assignment(Reader& r, Config* c, std::string* state_dir) {
  *c = read_config(r);
  *state_dir = r.str();
}

std::string run_request(const std::string& command, double timeout_s) {
  return Writer().u64(kRun).str(command).f64(timeout_s).frame();
}

RunRequest read_run_request(Reader& r) {
  RunRequest q;
  q.command = r.str();
  q.timeout_s = r.f64();
  return q;
}

std::string exec_request(const ExecRequest& req) {
  return Writer()
      .u64(kExec)
      .strs(req.argv)
      .str(req.cwd)
      .f64(req.timeout_s)
      .str(req.stdin_data)
      .u64(req.merge_stderr)
      .frame();
}

ExecRequest read_exec_request(Reader& r) {
  ExecRequest q;
  q.argv = r.strs();
  q.cwd = r.str();
  q.timeout_s = r.f64();
  q.stdin_data = r.str();
  q.merge_stderr = r.u64();
  return q;
}

std::string result_reply(const ExecResult& res) {
  return Writer()
      .u64(static_cast<uint64_t>(static_cast<int64_t>(res.exit_code)))
      .u64(res.signal)
      .str(res.out)
      .str(res.err)
      .u64(res.out_truncated)
      .u64(res.err_truncated)
      .f64(res.wall_s)
      .u64(static_cast<uint64_t>(res.reason))
      .str(res.detail)
      .u64(res.session_restarted)
      .frame();
}

ExecResult read_result_reply(Reader& r) {
  ExecResult out;
  out.exit_code = static_cast<int>(static_cast<int64_t>(r.u64()));
  out.signal = static_cast<int>(r.u64());
  out.out = r.str();
  out.err = r.str();
  out.out_truncated = r.u64();
  out.err_truncated = r.u64();
  out.wall_s = r.f64();
  out.reason = static_cast<StopReason>(r.u64());
  out.detail = r.str();
  out.session_restarted = r.u64();
  return out;
}

std::string read_file_request(const std::string& path) { return Writer().u64(kReadFile).str(path).frame(); }
std::string list_dir_request(const std::string& path) { return Writer().u64(kListDir).str(path).frame(); }
std::string exists_request(const std::string& path) { return Writer().u64(kExists).str(path).frame(); }
std::string path_of(Reader& r) { return r.str(); }

std::string write_file_request(const std::string& path, const std::string& data, bool create_only) {
  return Writer().u64(kWriteFile).str(path).str(data).u64(create_only).frame();
}

WriteFileRequest read_write_file_request(Reader& r) {
  WriteFileRequest q;
  q.path = r.str();
  q.data = r.str();
  q.create_only = r.u64();
  return q;
}

std::string status_reply(const std::string& error, const std::string& data) {
  return Writer().u64(error.empty()).str(error.empty() ? data : error).frame();
}

bool read_status_reply(Reader& r, std::string* error_out, std::string* data_out) {
  bool ok = r.u64();
  std::string s = r.str();
  if (!ok) {
    *error_out = s;
    return false;
  }
  if (data_out) *data_out = std::move(s);
  return true;
}

std::string list_dir_reply(const std::vector<DirEntry>& entries) {
  Writer w;
  w.u64(1).u64(entries.size());
  for (const auto& d : entries) w.str(d.name).u64(static_cast<uint64_t>(d.type)).u64(d.size);
  return w.frame();
}

bool read_list_dir_reply(Reader& r, std::vector<DirEntry>* entries, std::string* error_out) {
  if (!r.u64()) {
    *error_out = r.str();
    return false;
  }
  uint64_t n = r.u64();
  entries->clear();
  for (uint64_t i = 0; i < n; ++i) {
    DirEntry d;
    d.name = r.str();
    d.type = static_cast<char>(r.u64());
    d.size = r.u64();
    entries->push_back(std::move(d));
  }
  return true;
}

std::string exists_reply(bool yes) { return Writer().u64(yes).frame(); }
bool read_exists_reply(Reader& r) { return r.u64(); }
std::string reset_request() { return Writer().u64(kReset).frame(); }
std::string ping_request() { return Writer().u64(kPing).frame(); }

std::string launch_message(const std::vector<std::string>& argv, const std::string& cwd) {
  return Writer().strs(argv).str(cwd).frame();
}

void read_launch_message(Reader& r, std::vector<std::string>* argv, std::string* cwd) {
  *argv = r.strs();
  *cwd = r.str();
}

}  // namespace swebox::sandbox::wire
