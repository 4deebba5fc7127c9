#include "sandbox/sandbox_init.h"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstring>
#include <deque>
#include <fcntl.h>
#include <functional>
#include <map>
#include <memory>
#include <poll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sandbox/cgroup.h"
#include "sandbox/file_ops.h"
#include "sandbox/identity.h"
#include "sandbox/keeper.h"
#include "sandbox/prefault.h"
#include "sandbox/wire.h"

namespace swebox::sandbox::init {

const char* const kSessionLoop =
    "while IFS= builtin read -r -d '' __swebox_command <&3; do\n"
    "  eval \"$__swebox_command\" 3<&- 4>&- </dev/null\n"
    "  builtin printf '%d\\0' \"$?\" >&4\n"
    "done\n";

std::vector<std::string> command_environment(const Config& config) {
  std::vector<std::pair<std::string, std::string>> env = {
      {"PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"},
      {"HOME", "/tmp"},
      {"USER", "swebox"},
      {"LOGNAME", "swebox"},
      {"SHELL", "/bin/bash"},
      {"LANG", "C.UTF-8"},
      {"TERM", "dumb"},
      {"PAGER", "cat"},
      {"GIT_PAGER", "cat"},
      {"HOSTNAME", config.hostname},
  };
  for (const auto& [k, v] : config.env) {
    bool replaced = false;
    for (auto& e : env)
      if (e.first == k) e.second = v, replaced = true;
    if (!replaced) env.emplace_back(k, v);
  }
  std::vector<std::string> out;
  for (const auto& [k, v] : env) out.push_back(k + "=" + v);
  return out;
}

namespace {

using Clock = std::chrono::steady_clock;

// Output past the cap is read and dropped; past this much more, the command is stopped
// (StopReason::output_limit), so that endless output ends well before its timeout.
uint64_t overflow_allowance(uint64_t cap) { return std::max<uint64_t>(cap * 8, 64ull << 20); }

struct Capture {
  int fd = -1;
  std::string data;
  uint64_t total = 0;
  // Reads what is there. Returns false at EOF (and closes the fd).
  bool pump(uint64_t cap) {
    char buf[65536];
    for (;;) {
      ssize_t n = read(fd, buf, sizeof buf);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && errno == EAGAIN) return true;
      if (n <= 0) {
        close(fd);
        fd = -1;
        return false;
      }
      total += n;
      if (data.size() < cap) data.append(buf, std::min<uint64_t>(n, cap - data.size()));
      if (n < static_cast<ssize_t>(sizeof buf)) return true;
    }
  }
  bool truncated() const { return total > data.size(); }
  // The capture, with the truncation marker when bytes were dropped.
  std::string take(uint64_t cap) {
    if (truncated()) data += "\n[swebox: output truncated after " + std::to_string(cap) + " bytes]\n";
    return std::move(data);
  }
};

// One command (exec or session) waiting for its end.
struct Job {
  int reply_fd = -1;
  bool session = false;
  Clock::time_point start, deadline;
  bool has_deadline = false;
  double timeout_s = 0;
  Capture out, err;
  int stdin_fd = -1;
  std::string stdin_data;
  size_t stdin_off = 0;
  keeper::Handle keeper;
  bool unkept = false;  // keeper.pid is the command itself (keeper::start_unkept)
  bool keeper_reaped = false;
  bool have_status = false;  // the keeper reported (before its own exit, which is not waited for)
  int wait_status = 0;
  uint64_t oom_before = 0;
  bool killed = false;
  StopReason kill_reason = StopReason::exited;
  std::string command;  // session only
};

struct Session {
  keeper::Handle keeper;
  bool reaped = false;
  int cmd_fd = -1, status_fd = -1;
  Capture out;  // output of the current command (or stray output of background jobs)
  std::string status_buf;
  bool shell_gone = false;  // the status pipe closed: the shell exited
};

struct Outgoing {
  int fd;
  std::string data;
  size_t off = 0;
};

void set_nonblock(int fd) { fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK); }

std::string encode_result(const ExecResult& r) { return wire::result_reply(r); }

std::string seconds(double s) {
  char buf[32];
  snprintf(buf, sizeof buf, "%g", s);
  return buf;
}

class Init {
 public:
  explicit Init(const Setup& s) : s_(s), cfg_(*s.config) {
    common_.env = command_environment(cfg_);
    common_.limits = &cfg_.limits;
    common_.memory_cgroup = s.memory_cgroup;
    common_.pids_cgroup = s.pids_cgroup;
    common_.seccomp = s.seccomp;
    common_.share_mounts = !s.made_ahead && s.plan->scratch_workspace && s.own_host_uid;
    common_.warm_up = s.made_ahead;
  }

  [[noreturn]] void run() {
    root_fd_ = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
    devnull_ = open("/dev/null", O_RDONLY | O_CLOEXEC);  // every command's stdin by default
    sigset_t mask;
    sigemptyset(&mask);
    sigaddset(&mask, SIGCHLD);
    sigprocmask(SIG_BLOCK, &mask, nullptr);
    signal(SIGPIPE, SIG_IGN);
    sigchld_fd_ = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
    if (s_.made_ahead) {
      // Take the page faults the first requests would take now, while nobody waits (prefault.h).
      prefault::code();
      std::vector<std::string> warm(256, std::string(200, 'w'));
      std::string big(64 << 10, 'w');
      std::vector<std::unique_ptr<Job>> jobs;
      for (int i = 0; i < 8; ++i) jobs.push_back(std::make_unique<Job>());
    } else if (common_.share_mounts) {
      // A single sandbox whose one command runs with no keeper (keeper::start_unkept): nothing
      // to make ahead of it, nor after it (its host destroys the sandbox next).
      want_slot_ = false;
    } else {
      // A request is on its way (a single sandbox): its keeper is set up while the host hears
      // that we are ready; faults are taken as they come (fewer than warming up everything).
      prepare_slot();
    }
    for (;;) loop_once();
  }

 private:
  // --- the loop -------------------------------------------------------------------------------
  void loop_once() {
    std::vector<pollfd> fds;
    std::vector<std::function<void(short)>> on;
    auto watch = [&](int fd, short events, std::function<void(short)> f) {
      if (fd < 0) return;
      fds.push_back({fd, events, 0});
      on.push_back(std::move(f));
    };
    watch(s_.control_fd, POLLIN, [this](short) { on_request(); });
    watch(sigchld_fd_, POLLIN, [this](short) { on_sigchld(); });
    for (auto& [id, job] : execs_) {
      Job* j = job.get();
      watch(j->out.fd, POLLIN, [this, j](short) { pump(j, &j->out); });
      watch(j->err.fd, POLLIN, [this, j](short) { pump(j, &j->err); });
      watch(j->stdin_fd, POLLOUT, [this, j](short) { feed_stdin(j); });
      if (!j->have_status) watch(j->keeper.status_fd, POLLIN, [j](short) { read_status(j); });
    }
    watch(session_.out.fd, POLLIN, [this](short) { pump_session_output(); });
    watch(session_.status_fd, POLLIN, [this](short) { on_session_status(); });
    for (size_t i = 0; i < outbox_.size(); ++i) watch(outbox_[i].fd, POLLOUT, [this](short) { flush_outbox(); });

    int timeout_ms = -1;
    auto now = Clock::now();
    auto consider = [&](const Job* j) {
      if (!j || !j->has_deadline || j->killed) return;
      auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(j->deadline - now).count() + 1;
      if (ms < 0) ms = 0;
      if (timeout_ms < 0 || ms < timeout_ms) timeout_ms = static_cast<int>(std::min<long long>(ms, 1 << 30));
    };
    for (auto& [id, job] : execs_) consider(job.get());
    consider(current_.get());

    // The next command's keeper is made when init has nothing else to do: no command running
    // (a short one would compete with it for the CPU), nothing to answer, and nothing arriving
    // for a millisecond (the host, woken by the last answer, gets the CPU first).
    bool idle = execs_.empty() && !current_ && pending_.empty() && outbox_.empty();
    if (idle && want_slot_ && slot_.keeper.pid < 0 && !resetting_) {
      int ready = poll(fds.data(), fds.size(), 1);
      if (ready == 0) {
        prepare_slot();
        return;
      }
    }
    int n = poll(fds.data(), fds.size(), timeout_ms);
    if (n < 0 && errno != EINTR) _exit(1);
    for (size_t i = 0; i < fds.size() && n > 0; ++i)
      if (fds[i].revents) on[i](fds[i].revents);
    check_deadlines();
    finish_done_jobs();
  }

  void on_sigchld() {
    signalfd_siginfo info;
    while (read(sigchld_fd_, &info, sizeof info) > 0) {
    }
    for (;;) {
      int st;
      pid_t pid = waitpid(-1, &st, WNOHANG);
      if (pid <= 0) break;
      if (pid == session_.keeper.pid) session_.reaped = true;
      for (auto& [id, job] : execs_) {
        if (job->keeper.pid != pid) continue;
        job->keeper_reaped = true;
        if (job->unkept) {
          // The command itself: what it left running dies now (everything in the sandbox but
          // us, as a keeper's namespace would), so that its end means all it started is gone.
          job->wait_status = st;
          job->have_status = true;
          kill(-1, SIGKILL);
        }
      }
      if (pid == slot_.keeper.pid) {
        // The waiting keeper died unused (e.g. no pid left for its command's process): make the
        // next one only when a command needs it, so that a full pids cgroup is not hammered.
        slot_.keeper.pid = -1;
        keeper::discard(slot_);
        want_slot_ = false;
      }
    }
  }

  static void read_status(Job* j) {
    int st;
    if (read(j->keeper.status_fd, &st, sizeof st) == sizeof st) {
      j->wait_status = st;
      j->have_status = true;
    } else {
      // No report: the keeper died (killed); its reaping ends the job.
      j->have_status = false;
    }
    close(j->keeper.status_fd);
    j->keeper.status_fd = -1;
  }

  void check_deadlines() {
    auto now = Clock::now();
    for (auto& [id, job] : execs_)
      if (job->has_deadline && !job->killed && now >= job->deadline) stop(job.get(), StopReason::timeout);
    if (current_ && current_->has_deadline && !current_->killed && now >= current_->deadline)
      stop(current_.get(), StopReason::timeout);
  }

  // Kills everything the job's command started: its keeper's whole pid namespace.
  void stop(Job* j, StopReason why) {
    j->killed = true;
    j->kill_reason = why;
    pid_t pid = j->session ? session_.keeper.pid : j->keeper.pid;
    if (j->unkept && !j->keeper_reaped) kill(-1, SIGKILL);  // the command and all it started
    else if (pid > 0) kill(pid, SIGKILL);
  }

  void pump(Job* j, Capture* c) {
    c->pump(cfg_.limits.output_bytes);
    if (!j->killed && c->total > cfg_.limits.output_bytes + overflow_allowance(cfg_.limits.output_bytes))
      stop(j, StopReason::output_limit);
  }

  void feed_stdin(Job* j) {
    while (j->stdin_off < j->stdin_data.size()) {
      ssize_t n = write(j->stdin_fd, j->stdin_data.data() + j->stdin_off, j->stdin_data.size() - j->stdin_off);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && errno == EAGAIN) return;
      if (n <= 0) break;
      j->stdin_off += n;
    }
    close(j->stdin_fd);
    j->stdin_fd = -1;
  }

  // --- requests -------------------------------------------------------------------------------
  void on_request() {
    std::string body;
    int reply = -1;
    if (!wire::recv_frame(s_.control_fd, &body, -1, &reply)) _exit(0);  // the host is gone
    if (reply < 0) return;
    try {
      wire::Reader r(body);
      switch (r.u64()) {
        case wire::kRun: {
          auto j = std::make_unique<Job>();
          j->reply_fd = reply;
          j->session = true;
          wire::RunRequest q = wire::read_run_request(r);
          j->command = std::move(q.command);
          j->timeout_s = q.timeout_s;
          pending_.push_back(std::move(j));
          start_next_session_command();
          return;
        }
        case wire::kExec: {
          auto j = std::make_unique<Job>();
          j->reply_fd = reply;
          ExecRequest q = wire::read_exec_request(r);
          j->timeout_s = q.timeout_s;
          j->stdin_data = std::move(q.stdin_data);
          start_exec(std::move(j), q.argv, q.cwd, q.merge_stderr);
          return;
        }
        case wire::kReadFile: {
          std::string path = wire::path_of(r), data;
          caps::set_effective(false);
          std::string e = file_ops::read_file(root_fd_, path, cfg_.workspace_mount, &data);
          caps::set_effective(true);
          reply_and_close(reply, wire::status_reply(e, data));
          return;
        }
        case wire::kWriteFile: {
          wire::WriteFileRequest q = wire::read_write_file_request(r);
          caps::set_effective(false);
          std::string e = file_ops::write_file(root_fd_, q.path, cfg_.workspace_mount, q.data, q.create_only);
          caps::set_effective(true);
          reply_and_close(reply, wire::status_reply(e));
          return;
        }
        case wire::kListDir: {
          std::string path = wire::path_of(r);
          std::vector<DirEntry> entries;
          caps::set_effective(false);
          std::string e = file_ops::list_dir(root_fd_, path, cfg_.workspace_mount, &entries);
          caps::set_effective(true);
          reply_and_close(reply, e.empty() ? wire::list_dir_reply(entries) : wire::status_reply(e));
          return;
        }
        case wire::kExists: {
          std::string path = wire::path_of(r);
          caps::set_effective(false);
          bool yes = file_ops::exists(root_fd_, path, cfg_.workspace_mount);
          caps::set_effective(true);
          reply_and_close(reply, wire::exists_reply(yes));
          return;
        }
        case wire::kReset: {
          std::string e = reset();
          reply_and_close(reply, wire::status_reply(e));
          return;
        }
        case wire::kPing:
          reply_and_close(reply, wire::done_reply());
          return;
      }
    } catch (const std::exception& e) {
    }
    close(reply);
  }

  void reply_and_close(int fd, std::string framed) {
    outbox_.push_back({fd, std::move(framed)});
    flush_outbox();
  }

  void flush_outbox() {
    for (auto it = outbox_.begin(); it != outbox_.end();) {
      bool done = false;
      while (it->off < it->data.size()) {
        ssize_t n = send(it->fd, it->data.data() + it->off, it->data.size() - it->off, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && errno == EAGAIN) break;
        if (n <= 0) {
          it->off = it->data.size();  // the host stopped listening
          break;
        }
        it->off += n;
      }
      done = it->off >= it->data.size();
      if (done) {
        close(it->fd);
        it = outbox_.erase(it);
      } else {
        ++it;
      }
    }
  }

  std::string resolve_cwd(const std::string& cwd) const {
    if (cwd.empty()) return cfg_.workspace_mount;
    if (cwd[0] == '/') return cwd;
    return cfg_.workspace_mount + "/" + cwd;
  }

  void begin(Job* j) {
    j->start = Clock::now();
    j->has_deadline = j->timeout_s > 0;
    if (j->has_deadline)
      j->deadline = j->start + std::chrono::microseconds(static_cast<int64_t>(j->timeout_s * 1e6));
    j->oom_before = cgroup::oom_kills(s_.oom_events_fd);
  }

  void fail(Job* j, const std::string& why) {
    ExecResult r;
    r.reason = StopReason::error;
    r.detail = why;
    reply_and_close(j->reply_fd, encode_result(r));
    j->reply_fd = -1;
  }

  void start_exec(std::unique_ptr<Job> j, const std::vector<std::string>& argv, const std::string& cwd, bool merge) {
    begin(j.get());
    if (argv.empty()) return fail(j.get(), "empty argv");
    int out[2], err[2] = {-1, -1}, in[2] = {-1, -1};
    pipe2(out, O_CLOEXEC);
    if (!merge) pipe2(err, O_CLOEXEC);
    if (!j->stdin_data.empty()) pipe2(in, O_CLOEXEC);
    keeper::Command cmd{argv, resolve_cwd(cwd), {in[0] >= 0 ? in[0] : devnull_, out[1], merge ? out[1] : err[1]}};
    std::string error;
    // A single sandbox's one command needs no keeper (keeper::start_unkept).
    if (common_.share_mounts && execs_.empty() && !current_ && session_.keeper.pid < 0 && !unkept_started_) {
      unkept_started_ = true;
      j->keeper = keeper::start_unkept(common_, cmd, &error);
      j->unkept = j->keeper.pid > 0;
    } else {
      j->keeper = start_command(cmd, &error);
    }
    for (int fd : {in[0], out[1], err[1]})
      if (fd >= 0) close(fd);
    j->out.fd = out[0];
    j->err.fd = err[0];
    j->stdin_fd = in[1];
    for (int fd : {j->out.fd, j->err.fd, j->stdin_fd})
      if (fd >= 0) set_nonblock(fd);
    if (j->keeper.pid < 0) {
      fail(j.get(), "cannot start the command: " + error);
      for (int fd : {j->out.fd, j->err.fd, j->stdin_fd})
        if (fd >= 0) close(fd);
      return;
    }
    uint64_t id = next_id_++;
    execs_[id] = std::move(j);
  }

  // --- keepers --------------------------------------------------------------------------------
  // The next command's keeper is made while init is idle (see keeper.h), so a command costs
  // only its own execve when it arrives.
  void prepare_slot() {
    std::string error;
    slot_ = keeper::prepare(common_, &error);
    want_slot_ = slot_.keeper.pid > 0;
  }

  keeper::Handle start_command(const keeper::Command& cmd, std::string* error) {
    for (int attempt = 0; attempt < 2; ++attempt) {
      if (slot_.keeper.pid < 0) slot_ = keeper::prepare(common_, error);
      if (slot_.keeper.pid < 0) return {};
      keeper::Slot slot = slot_;
      slot_ = keeper::Slot{};
      if (keeper::launch(slot, cmd, error)) {
        want_slot_ = true;
        return slot.keeper;
      }
      keeper::discard(slot);
    }
    return {};
  }

  // --- the session ----------------------------------------------------------------------------
  bool ensure_session(std::string* error) {
    if (session_.keeper.pid > 0) return true;
    int cmd[2], status[2], out[2];
    pipe2(cmd, O_CLOEXEC);
    pipe2(status, O_CLOEXEC);
    pipe2(out, O_CLOEXEC);
    keeper::Command command{{"/bin/bash", "--noprofile", "--norc", "-c", kSessionLoop},
                            cfg_.workspace_mount,
                            {devnull_, out[1], out[1], cmd[0], status[1]}};
    session_ = Session{};
    session_.keeper = start_command(command, error);
    for (int fd : {out[1], cmd[0], status[1]}) close(fd);
    if (session_.keeper.pid < 0) {
      for (int fd : {cmd[1], status[0], out[0]}) close(fd);
      session_ = Session{};
      return false;
    }
    session_.cmd_fd = cmd[1];
    session_.status_fd = status[0];
    session_.out.fd = out[0];
    set_nonblock(session_.status_fd);
    set_nonblock(session_.out.fd);
    return true;
  }

  void start_next_session_command() {
    while (!resetting_ && !current_ && !pending_.empty()) {
      current_ = std::move(pending_.front());
      pending_.pop_front();
      begin(current_.get());
      std::string error;
      if (!ensure_session(&error)) {
        fail(current_.get(), "cannot start the shell session: " + error);
        current_.reset();
        continue;
      }
      // Stray output of background jobs between commands is dropped.
      session_.out.data.clear();
      session_.out.total = 0;
      std::string text = current_->command;
      text.erase(std::remove(text.begin(), text.end(), '\0'), text.end());
      text.push_back('\0');
      size_t off = 0;
      while (off < text.size()) {
        ssize_t n = write(session_.cmd_fd, text.data() + off, text.size() - off);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;  // the shell is gone; its end is noticed through the status pipe
        off += n;
      }
    }
  }

  void pump_session_output() {
    session_.out.pump(cfg_.limits.output_bytes);
    if (current_ && !current_->killed &&
        session_.out.total > cfg_.limits.output_bytes + overflow_allowance(cfg_.limits.output_bytes))
      stop(current_.get(), StopReason::output_limit);
    if (session_.out.fd < 0 && !current_) session_.out.data.clear();
  }

  void on_session_status() {
    char buf[64];
    ssize_t n = read(session_.status_fd, buf, sizeof buf);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
    if (n <= 0) {
      close(session_.status_fd);
      session_.status_fd = -1;
      session_.shell_gone = true;
      return;
    }
    session_.status_buf.append(buf, n);
    size_t nul;
    while ((nul = session_.status_buf.find('\0')) != std::string::npos) {
      int status = atoi(session_.status_buf.substr(0, nul).c_str());
      session_.status_buf.erase(0, nul + 1);
      if (current_ && !current_->killed) finish_session_command(status);
    }
  }

  void fill_common(ExecResult& r, Job* j, Capture& out, Capture* err) {
    r.wall_s = std::chrono::duration<double>(Clock::now() - j->start).count();
    r.out_truncated = out.truncated();
    uint64_t out_total = out.total;
    r.out = out.take(cfg_.limits.output_bytes);
    if (err) {
      r.err_truncated = err->truncated();
      r.err = err->take(cfg_.limits.output_bytes);
    }
    if (r.out_truncated || r.err_truncated) {
      std::string d = "output truncated at " + std::to_string(cfg_.limits.output_bytes) + " bytes per stream";
      if (r.out_truncated) d += " (stdout was " + std::to_string(out_total) + " bytes)";
      r.detail = r.detail.empty() ? d : r.detail + "; " + d;
    }
  }

  bool oom_happened(const Job* j) const { return cgroup::oom_kills(s_.oom_events_fd) > j->oom_before; }

  void finish_session_command(int status) {
    ExecResult r;
    // The shell's convention: a status above 128 is a death by signal.
    if (status > 128 && status < 128 + 65) {
      r.signal = status - 128;
      r.exit_code = status;
      r.reason = StopReason::signaled;
    } else {
      r.exit_code = status;
    }
    if ((status == 137 || r.signal == SIGKILL) && oom_happened(current_.get())) {
      r.reason = StopReason::memory;
      r.detail = "killed by the out-of-memory killer (memory limit " + std::to_string(cfg_.limits.memory_bytes) + " bytes)";
    }
    session_.out.pump(cfg_.limits.output_bytes);
    fill_common(r, current_.get(), session_.out, nullptr);
    reply_and_close(current_->reply_fd, encode_result(r));
    int out_fd = session_.out.fd;
    session_.out = Capture{};
    session_.out.fd = out_fd;
    current_.reset();
    start_next_session_command();
  }

  // The session's keeper ended (timeout, output limit, reset, or the shell exited).
  void finish_dead_session() {
    int wstatus = -1;
    bool have = read(session_.keeper.status_fd, &wstatus, sizeof wstatus) == sizeof wstatus;
    if (current_) {
      Job* j = current_.get();
      if (session_.out.fd >= 0) session_.out.pump(cfg_.limits.output_bytes);
      ExecResult r;
      r.session_restarted = true;
      if (j->killed) {
        r.signal = SIGKILL;
        r.reason = j->kill_reason;
        if (j->kill_reason == StopReason::timeout)
          r.detail = "timeout after " + seconds(j->timeout_s) +
                     " s: the command and everything it started were killed; a fresh session will start "
                     "(cwd, environment and shell state are back to their defaults)";
        else if (j->kill_reason == StopReason::output_limit)
          r.detail = "output went on far past the " + std::to_string(cfg_.limits.output_bytes) +
                     "-byte cap: the command was killed; a fresh session will start";
        else
          r.detail = "the sandbox was reset";
      } else if (have && WIFEXITED(wstatus)) {
        r.exit_code = WEXITSTATUS(wstatus);
        r.detail = "the shell exited with status " + std::to_string(r.exit_code) +
                   "; a fresh session will start (cwd, environment and shell state are back to their defaults)";
      } else {
        int sig = have && WIFSIGNALED(wstatus) ? WTERMSIG(wstatus) : SIGKILL;
        r.signal = sig;
        r.reason = StopReason::signaled;
        if (sig == SIGKILL && oom_happened(j)) {
          r.reason = StopReason::memory;
          r.detail = "the shell was killed by the out-of-memory killer (memory limit " +
                     std::to_string(cfg_.limits.memory_bytes) + " bytes); a fresh session will start";
        } else {
          r.detail = "the shell was killed by signal " + std::to_string(sig) + "; a fresh session will start";
        }
      }
      fill_common(r, j, session_.out, nullptr);
      reply_and_close(j->reply_fd, encode_result(r));
      current_.reset();
    }
    for (int fd : {session_.cmd_fd, session_.status_fd, session_.out.fd, session_.keeper.status_fd})
      if (fd >= 0) close(fd);
    session_ = Session{};
  }

  void finish_done_jobs() {
    if (session_.keeper.pid > 0 && session_.reaped) {
      finish_dead_session();
      start_next_session_command();
    } else if (session_.keeper.pid > 0 && session_.shell_gone && !session_.reaped) {
      // The shell exited; the keeper follows at once. Nothing to do until it is reaped.
    }
    for (auto it = execs_.begin(); it != execs_.end();) {
      Job* j = it->second.get();
      bool ended = j->have_status || j->keeper_reaped;
      if (!(ended && j->out.fd < 0 && j->err.fd < 0)) {
        ++it;
        continue;
      }
      ExecResult r;
      if (!j->have_status && j->keeper.status_fd >= 0) read_status(j);
      int wstatus = j->wait_status;
      bool have = j->have_status;
      if (j->killed) {
        r.signal = SIGKILL;
        r.reason = j->kill_reason;
        r.detail = j->kill_reason == StopReason::timeout
                       ? "timeout after " + seconds(j->timeout_s) + " s: the command and everything it started were killed"
                   : j->kill_reason == StopReason::output_limit
                       ? "output went on far past the " + std::to_string(cfg_.limits.output_bytes) +
                             "-byte cap: the command was killed"
                       : "the sandbox was reset";
      } else if (have && WIFEXITED(wstatus)) {
        r.exit_code = WEXITSTATUS(wstatus);
        if (r.exit_code == 137 && oom_happened(j)) {
          r.reason = StopReason::memory;
          r.detail = "a process was killed by the out-of-memory killer (memory limit " +
                     std::to_string(cfg_.limits.memory_bytes) + " bytes)";
        }
      } else {
        r.signal = have && WIFSIGNALED(wstatus) ? WTERMSIG(wstatus) : SIGKILL;
        r.reason = StopReason::signaled;
        if (r.signal == SIGKILL && oom_happened(j)) {
          r.reason = StopReason::memory;
          r.detail = "killed by the out-of-memory killer (memory limit " + std::to_string(cfg_.limits.memory_bytes) + " bytes)";
        } else {
          r.detail = std::string("killed by signal ") + strsignal(r.signal);
        }
      }
      fill_common(r, j, j->out, &j->err);
      reply_and_close(j->reply_fd, encode_result(r));
      if (j->keeper.status_fd >= 0) close(j->keeper.status_fd);
      if (j->stdin_fd >= 0) close(j->stdin_fd);
      it = execs_.erase(it);
    }
  }

  // --- reset ----------------------------------------------------------------------------------
  std::string reset() {
    // Everything running uses the old workspace: stop it all and wait until it is gone.
    std::vector<pid_t> waiting;
    for (auto& [id, job] : execs_) {
      stop(job.get(), StopReason::error);
      waiting.push_back(job->keeper.pid);
    }
    if (session_.keeper.pid > 0) {
      if (current_) stop(current_.get(), StopReason::error);
      else kill(session_.keeper.pid, SIGKILL);
      waiting.push_back(session_.keeper.pid);
    }
    for (pid_t pid : waiting) {
      int st;
      if (waitpid(pid, &st, 0) == pid) {
        if (pid == session_.keeper.pid) session_.reaped = true;
        for (auto& [id, job] : execs_)
          if (job->keeper.pid == pid) job->keeper_reaped = true;
      }
    }
    // Drain the dead commands' pipes so that their results go out now.
    for (auto& [id, job] : execs_) {
      while (job->out.fd >= 0) job->out.pump(cfg_.limits.output_bytes);
      while (job->err.fd >= 0) job->err.pump(cfg_.limits.output_bytes);
    }
    resetting_ = true;
    finish_done_jobs();
    // A waiting keeper's mount namespace holds the old workspace.
    keeper::discard(slot_);
    std::string e = mounts::reset_workspace(*s_.plan);
    resetting_ = false;
    // Commands queued behind the killed one run in a fresh session on the fresh workspace.
    start_next_session_command();
    return e;
  }

  const Setup& s_;
  const Config& cfg_;
  keeper::Common common_;
  keeper::Slot slot_;
  bool want_slot_ = true;
  bool unkept_started_ = false;  // the one command without a keeper has been started
  int root_fd_ = -1;
  int devnull_ = -1;
  int sigchld_fd_ = -1;
  uint64_t next_id_ = 1;
  std::map<uint64_t, std::unique_ptr<Job>> execs_;
  Session session_;
  std::unique_ptr<Job> current_;
  std::deque<std::unique_ptr<Job>> pending_;
  std::vector<Outgoing> outbox_;
  bool resetting_ = false;
};

}  // namespace

void serve(const Setup& setup) {
  Init init(setup);
  init.run();
}

}  // namespace swebox::sandbox::init
