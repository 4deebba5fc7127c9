// The class behind make_docker_sandbox (docker_backend.h). Internal to the sandbox folder: the
// lifecycle and commands live in docker_backend.cc, the file API in docker_files.cc.
#pragma once

#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "sandbox/docker_api.h"
#include "sandbox/docker_exec.h"
#include "sandbox/docker_session.h"
#include "sandbox/docker_tar.h"
#include "sandbox/sandbox.h"

namespace swebox::sandbox {

class DockerSandbox : public Sandbox {
 public:
  DockerSandbox(boost::asio::io_context& io, const Config& config);
  ~DockerSandbox() override;

  void async_run(std::string command, double timeout_s, ExecHandler done) override;
  void async_exec(ExecRequest request, ExecHandler done) override;
  ExecResult run(std::string command, double timeout_s) override;
  ExecResult exec(ExecRequest request) override;

  std::variant<std::string, FileError> read_file(const std::string& path) override;
  std::optional<FileError> write_file(const std::string& path, const std::string& data,
                                      bool create_only = false) override;
  std::variant<std::vector<DirEntry>, FileError> list_dir(const std::string& path) override;
  bool exists(const std::string& path) override;

  std::string upper_dir() const override { return ""; }
  std::string merged_view() const override { return ""; }

  void stop_processes() override;
  void reset() override;
  void destroy() override;

  // The container's id (tests use it to check that destroy() removes it).
  std::string container_id();

 private:
  void create_container();
  // Where commands run now; throws SandboxError after destroy().
  docker_exec::Target target(const std::string& user);
  // Runs work on a thread of its own and posts its result to io_ (keeping io_ busy meanwhile).
  void start_job(std::function<ExecResult()> work, ExecHandler done);
  ExecResult error_result(const std::exception& e);

  // File API helpers (docker_files.cc).
  std::string sandbox_path(const std::string& path) const;
  // Runs one short command in the file session (started on first use).
  ExecResult file_command(const std::string& command);

  boost::asio::io_context& io_;
  Config config_;
  std::string image_;
  // Commands run as this unprivileged user; files the sandbox writes belong to it.
  std::string user_ = "1000:1000";
  docker_tar::Owner owner_{1000, 1000};
  std::vector<std::string> shell_;
  docker_api::Client client_;

  std::mutex mu_;  // container_id_, destroyed_, jobs_
  std::string container_id_;
  bool destroyed_ = false;
  int jobs_ = 0;
  std::condition_variable jobs_done_;

  std::mutex session_mu_;  // one session command at a time; reset() waits for it
  std::unique_ptr<DockerSession> session_;

  std::mutex files_mu_;  // one file operation at a time
  std::unique_ptr<DockerSession> files_session_;
};

}  // namespace swebox::sandbox
