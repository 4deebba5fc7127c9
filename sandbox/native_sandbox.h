// The native backend's Sandbox (host side). See zygote.h for how sandboxes are made and
// sandbox_init.h for what runs inside.
#pragma once

#include <mutex>

#include "sandbox/sandbox.h"

namespace swebox::sandbox {

class NativeSandbox : public Sandbox {
 public:
  NativeSandbox(boost::asio::io_context& io, const Config& config);
  ~NativeSandbox() override;

  void async_run(std::string command, double timeout_s, ExecHandler done) override;
  void async_exec(ExecRequest request, ExecHandler done) override;
  ExecResult run(std::string command, double timeout_s) override;
  ExecResult exec(ExecRequest request) override;
  std::variant<std::string, FileError> read_file(const std::string& path) override;
  std::optional<FileError> write_file(const std::string& path, const std::string& data,
                                      bool create_only = false) override;
  std::variant<std::vector<DirEntry>, FileError> list_dir(const std::string& path) override;
  bool exists(const std::string& path) override;
  std::string upper_dir() const override;
  std::string merged_view() const override;
  void stop_processes() override;
  void reset() override;
  void destroy() override;

  // The sandbox's init in the host's pid namespace (-1 once destroyed).
  pid_t init_pid() const { return init_pid_; }

 private:
  // Sends a request with a fresh reply socket; returns that socket or -1.
  int send(const std::string& framed);
  bool call(const std::string& framed, std::string* reply, int timeout_ms);
  // While the sandbox is still being set up (a single sandbox, see zygote::Created): waits for its
  // report or for `reply_fd` to turn readable. False (setup_error_ set) when the set-up failed.
  bool await_start(int reply_fd, int timeout_ms);
  // What a failed call says: why the set-up failed, if it did, else `otherwise`.
  std::string failure(const std::string& otherwise);
  void async_call(std::string framed, std::function<void(bool, std::string)> done);

  boost::asio::io_context& io_;
  Config config_;
  std::mutex mu_;
  uint64_t id_ = 0;
  pid_t init_pid_ = -1;
  int init_pidfd_ = -1;  // init, held so that a kill can never reach a reused pid
  int control_fd_ = -1;
  std::mutex start_mu_;   // guards the two below
  int starting_fd_ = -1;  // the set-up's report, until read (await_start)
  std::string setup_error_;
  std::string upper_dir_;
};

std::unique_ptr<Sandbox> make_native_sandbox(boost::asio::io_context& io, const Config& config);

}  // namespace swebox::sandbox
