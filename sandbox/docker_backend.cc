#include "sandbox/docker_backend.h"

#include <thread>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>

#include "sandbox/docker_sandbox.h"
#include "sandbox/docker_tar.h"
#include "sandbox/sandbox_init.h"

namespace swebox::sandbox {

namespace {

nlohmann::json container_spec(const Config& c, const std::string& image) {
  // The same environment as the native backend; an image that brings the workspace keeps its own
  // (SWE-bench's images set PATH for conda), with Config::env added.
  nlohmann::json env = init::command_environment(c);
  if (c.docker_image_workspace) {
    env = nlohmann::json::array();
    for (const auto& [k, v] : c.env) env.push_back(k + "=" + v);
  }
  nlohmann::json binds = nlohmann::json::array();
  for (const auto& b : c.binds) binds.push_back(b.host_path + ":" + b.sandbox_path + (b.writable ? ":rw" : ":ro"));
  std::string tmpfs = "rw,exec,nosuid,nodev,mode=1777";
  if (c.limits.tmp_bytes) tmpfs += ",size=" + std::to_string(c.limits.tmp_bytes);
  nlohmann::json host = {
      // "none" still has a loopback interface: both Network values mean "no way out".
      {"NetworkMode", "none"},
      {"Memory", c.limits.memory_bytes},
      {"MemorySwap", c.limits.memory_bytes},  // no swap beyond the limit
      {"PidsLimit", c.limits.pids},
      {"ReadonlyRootfs", true},
      {"Tmpfs", {{"/tmp", tmpfs}}},
      {"Mounts", {{{"Type", "volume"}, {"Target", c.workspace_mount}}}},
      {"Binds", binds},
      {"Ulimits",
       {{{"Name", "nofile"}, {"Soft", c.limits.open_files}, {"Hard", c.limits.open_files}},
        {{"Name", "fsize"}, {"Soft", c.limits.file_size_bytes}, {"Hard", c.limits.file_size_bytes}}}},
      {"Init", true},  // tini as PID 1 reaps orphans (daemonized children of commands)
      {"CapDrop", {"ALL"}},
      {"CapAdd", {"CHOWN", "DAC_OVERRIDE", "FOWNER", "KILL", "SETUID", "SETGID"}},
      {"SecurityOpt", {"no-new-privileges"}},
  };
  if (c.limits.cpus > 0) host["NanoCpus"] = int64_t(c.limits.cpus * 1e9);
  if (c.docker_image_workspace) {
    // The image's /testbed and /tmp, written in the container's own layer as SWE-bench's
    // containers write them; that layer goes with the container.
    host["ReadonlyRootfs"] = false;
    host.erase("Tmpfs");
    host.erase("Mounts");
  }
  return {
      {"Image", image},
      {"Entrypoint", {"/bin/sh", "-c", "while :; do sleep 86400; done"}},
      {"Cmd", nullptr},
      // PID 1 runs as root so that root execs (chown of the workspace) keep their capabilities;
      // every command runs as `user`, given per exec.
      {"User", "0:0"},
      {"Env", env},
      {"WorkingDir", c.workspace_mount},
      {"Hostname", c.hostname},
      {"NetworkDisabled", true},
      {"Labels", {{"swebox", "sandbox"}}},
      {"HostConfig", host},
  };
}

}  // namespace

bool docker_available() { return docker_api::Client().ping(1); }

bool docker_image_present(const std::string& image) {
  try {
    docker_api::Client client;
    return client.ping(2) && client.image_exists(image);
  } catch (const std::exception&) {
    return false;  // the daemon went away between the two requests
  }
}

std::unique_ptr<Sandbox> make_docker_sandbox(boost::asio::io_context& io, const Config& config) {
  return std::make_unique<DockerSandbox>(io, config);
}

DockerSandbox::DockerSandbox(boost::asio::io_context& io, const Config& config)
    : io_(io), config_(config), image_(config.docker_image.empty() ? kDefaultDockerImage : config.docker_image) {
  if (!client_.ping(5))
    throw SandboxError("no Docker daemon answers at " + client_.socket_path() +
                       "; start one with scripts/start-dockerd.sh (as root)");
  if (!client_.image_exists(image_))
    throw SandboxImageMissing("Docker image " + image_ + " is not present locally; " +
                                  (image_ == kDefaultDockerImage ? "build it with scripts/make-docker-image.sh"
                                                                 : "load or build it first (images are never pulled)"),
                              image_);
  if (config_.docker_image_workspace) {
    if (!config_.workspace_lowers.empty())
      throw SandboxError("a Docker sandbox whose image brings the workspace takes no workspace layers");
    // As SWE-bench runs commands in its images: root, owning the image's files.
    user_ = "0:0";
    owner_ = {0, 0};
  }
  for (const auto& lower : config_.workspace_lowers)
    if (lower.empty() || lower.front() != '/')
      throw SandboxError("workspace layer \"" + lower + "\" must be an absolute host path");
  try {
    create_container();
  } catch (const docker_api::DockerError& e) {
    throw SandboxError(std::string("creating the Docker sandbox failed: ") + e.what());
  }
}

DockerSandbox::~DockerSandbox() { destroy(); }

void DockerSandbox::create_container() {
  std::string id = client_.create_container(container_spec(config_, image_));
  {
    std::lock_guard lock(mu_);
    container_id_ = id;
  }
  try {
    client_.start_container(id);
    // The lowest layer first, so that upper layers overwrite it.
    for (auto it = config_.workspace_lowers.rbegin(); it != config_.workspace_lowers.rend(); ++it) {
      auto r = client_.put_archive(id, config_.workspace_mount, [&](const docker_api::BodySink& sink) {
        docker_tar::Writer w(sink);
        w.add_host_tree(*it, "", owner_);
        w.finish();
      });
      if (r.status >= 300)
        throw SandboxError("copying workspace layer " + *it + " into the container failed: HTTP " +
                           std::to_string(r.status) + " " + r.body);
    }
    if (!config_.docker_image_workspace) {
      // A fresh volume's root belongs to root; the workspace must be the user's.
      ExecRequest chown{{"chown", user_, config_.workspace_mount}, "/", 30, "", true};
      ExecResult r = docker_exec::run_exec(target("0:0"), chown, "/", 1 << 16, 0);
      if (r.status() != 0) throw SandboxError("cannot give the workspace to " + user_ + ": " + r.out + r.detail);
    }
    shell_ = client_.stat_path(id, "/bin/bash").is_null() ? std::vector<std::string>{"/bin/sh"}
                                                          : std::vector<std::string>{"/bin/bash", "--noprofile", "--norc"};
  } catch (...) {
    client_.remove_container(id);
    throw;
  }
}

docker_exec::Target DockerSandbox::target(const std::string& user) {
  std::lock_guard lock(mu_);
  if (destroyed_) throw SandboxError("the Docker sandbox has been destroyed");
  return {&client_, container_id_, user};
}

std::string DockerSandbox::container_id() {
  std::lock_guard lock(mu_);
  return container_id_;
}

ExecResult DockerSandbox::error_result(const std::exception& e) {
  ExecResult r;
  r.reason = StopReason::error;
  r.detail = e.what();
  return r;
}

ExecResult DockerSandbox::run(std::string command, double timeout_s) {
  std::lock_guard lock(session_mu_);
  try {
    auto t = target(user_);
    bool restarted = false;
    if (!session_ || !session_->alive()) {
      restarted = session_ != nullptr;
      session_ = std::make_unique<DockerSession>(t, shell_, config_.workspace_mount);
    }
    ExecResult r = session_->run(command, timeout_s, config_.limits.output_bytes, config_.limits.memory_bytes);
    if (restarted && r.detail.empty()) r.detail = "ran in a fresh session (the previous one had ended)";
    return r;
  } catch (const std::exception& e) {
    return error_result(e);
  }
}

ExecResult DockerSandbox::exec(ExecRequest request) {
  try {
    return docker_exec::run_exec(target(user_), request, config_.workspace_mount, config_.limits.output_bytes,
                                 config_.limits.memory_bytes);
  } catch (const std::exception& e) {
    return error_result(e);
  }
}

void DockerSandbox::start_job(std::function<ExecResult()> work, ExecHandler done) {
  auto guard = boost::asio::make_work_guard(io_);
  {
    std::lock_guard lock(mu_);
    ++jobs_;
  }
  std::thread([this, work = std::move(work), done = std::move(done), guard = std::move(guard)]() mutable {
    ExecResult r = work();
    boost::asio::post(guard.get_executor(), [done = std::move(done), r = std::move(r)]() mutable { done(std::move(r)); });
    guard.reset();
    work = nullptr;
    std::lock_guard lock(mu_);
    --jobs_;
    jobs_done_.notify_all();
  }).detach();
}

void DockerSandbox::async_run(std::string command, double timeout_s, ExecHandler done) {
  start_job([this, command = std::move(command), timeout_s] { return run(command, timeout_s); }, std::move(done));
}

void DockerSandbox::async_exec(ExecRequest request, ExecHandler done) {
  start_job([this, request = std::move(request)] { return exec(request); }, std::move(done));
}

void DockerSandbox::reset() {
  std::string old;
  {
    std::lock_guard lock(mu_);
    if (destroyed_) throw SandboxError("reset: the Docker sandbox has been destroyed");
    old = container_id_;
  }
  try {
    // Removing the container first ends a command still running in the session at once.
    client_.remove_container(old);
    std::scoped_lock sessions(session_mu_, files_mu_);
    session_.reset();
    files_session_.reset();
    create_container();
  } catch (const docker_api::DockerError& e) {
    throw SandboxError(std::string("resetting the Docker sandbox failed: ") + e.what());
  }
}

// The container is killed (every process in it: the session, commands, whatever they left behind)
// and started again bare, so that its volumes and files are as the agent left them and a judge can
// still run commands in it, but nothing of the agent runs any more.
void DockerSandbox::stop_processes() {
  std::string id;
  {
    std::lock_guard lock(mu_);
    if (destroyed_) return;
    id = container_id_;
  }
  try {
    client_.kill_container(id);
    std::scoped_lock sessions(session_mu_, files_mu_);
    session_.reset();
    files_session_.reset();
    client_.start_container(id);
  } catch (const docker_api::DockerError& e) {
    throw SandboxError(std::string("stopping the Docker sandbox's processes failed: ") + e.what());
  }
}

void DockerSandbox::destroy() {
  std::string id;
  {
    std::lock_guard lock(mu_);
    if (destroyed_) return;
    destroyed_ = true;
    id = container_id_;
  }
  // Removing the container ends every exec, so running jobs finish promptly.
  try {
    if (!id.empty()) client_.remove_container(id);
  } catch (const docker_api::DockerError&) {
    // The daemon is gone; nothing of ours is left to remove through it.
  }
  {
    std::unique_lock lock(mu_);
    jobs_done_.wait(lock, [this] { return jobs_ == 0; });
  }
  std::scoped_lock sessions(session_mu_, files_mu_);
  session_.reset();
  files_session_.reset();
}

}  // namespace swebox::sandbox
