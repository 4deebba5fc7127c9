// The sandbox interface: what the runner, the tools and the tasks see of a sandbox.
// Two backends implement it: the native one (namespaces, overlayfs, seccomp, cgroups; the default)
// and Docker (Engine API over /var/run/docker.sock). Both are created from one plain Config.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include <boost/asio/io_context.hpp>

namespace swebox::sandbox {

enum class Network { none, loopback };

struct Limits {
  uint64_t memory_bytes = 2ull << 30;   // cgroup memory limit
  uint32_t pids = 512;                  // cgroup pids limit
  double cpus = 2.0;                    // CPU quota in cores; 0 = no quota
  uint64_t output_bytes = 1ull << 20;   // captured bytes per stream before truncation
  uint64_t file_size_bytes = 1ull << 30;// RLIMIT_FSIZE
  uint32_t open_files = 1024;           // RLIMIT_NOFILE
  uint64_t tmp_bytes = 512ull << 20;    // size of the tmpfs /tmp
  // Size cap of the workspace's changes (the upper layer, a tmpfs when state_dir is empty and
  // the host process is root; its pages count against memory_bytes, so the cap is at most half
  // of it): writes past it fail with ENOSPC ("No space left on device"). 0 = on disk, no cap.
  uint64_t workspace_bytes = 0;
};

struct Bind {
  std::string host_path;
  std::string sandbox_path;
  bool writable = false;
};

struct Config {
  // The system the sandbox sees. "/" (the host's) shows only an allowlist of it: /usr, /bin,
  // /sbin, /lib*, a filtered /etc, and system_paths (see sandbox/README.md). Any other directory
  // is shown whole, as a system image.
  std::string rootfs = "/";
  std::vector<std::string> system_paths;      // with rootfs "/": more host paths shown read-only at
                                              // the same place (e.g. an interpreter's prefix in /opt)
  std::vector<std::string> workspace_lowers;  // read-only layers of the workspace, top first; empty = empty dir
  std::string workspace_mount = "/testbed";   // where the workspace appears inside the sandbox
  std::string state_dir;                      // host dir holding upper/ and work/; empty = a fresh temp dir, removed at teardown
  Network network = Network::none;
  Limits limits;
  std::vector<std::pair<std::string, std::string>> env;  // added to a minimal default environment
  std::vector<Bind> binds;                    // extra bind mounts (read-only unless writable)
  std::string hostname = "swebox";
  std::string docker_image;                   // Docker backend only: a local image
  // Docker backend only: the image brings the workspace (SWE-bench's instance images hold the
  // repository, installed, at /testbed). workspace_mount is then the image's own directory, not a
  // fresh volume (workspace_lowers must be empty); the root filesystem is writable (the container's
  // own layer, removed with it), /tmp is the image's, the environment is the image's (env is added
  // to it), and commands run as root, as SWE-bench runs its eval scripts there.
  bool docker_image_workspace = false;
};

// Why a command stopped, when it did not simply exit.
enum class StopReason { exited, signaled, timeout, memory, output_limit, error };
const char* to_string(StopReason r);

struct ExecResult {
  int exit_code = -1;          // valid when reason == exited
  int signal = 0;              // set when the command was killed by a signal
  std::string out;             // captured stdout (bytes, not necessarily UTF-8)
  std::string err;             // captured stderr
  bool out_truncated = false;  // capture stopped at Limits::output_bytes (a marker is appended)
  bool err_truncated = false;
  double wall_s = 0;
  StopReason reason = StopReason::exited;
  std::string detail;          // human words for reason (e.g. "timeout after 5 s; session restarted")
  bool session_restarted = false;  // the persistent session was replaced by a fresh one
  // The shell convention: exit code, or 128+signal when killed.
  int status() const { return signal ? 128 + signal : exit_code; }
};

struct ExecRequest {
  std::vector<std::string> argv;  // program and arguments, run as a fresh process (not in the session)
  std::string cwd;                // default: Config::workspace_mount
  double timeout_s = 120;
  std::string stdin_data;
  bool merge_stderr = false;      // stderr into out, in order (as a terminal shows it)
};

// File operations for the editing tools. Paths are sandbox paths (absolute, or relative to the
// workspace); they resolve inside the sandbox's own view only, whatever symlinks or ".." were planted.
struct FileError {
  std::string message;  // e.g. "no such file: /testbed/a.py"
};
struct DirEntry {
  std::string name;
  char type;  // 'f' file, 'd' directory, 'l' symlink, '?' other
  uint64_t size;
};

class Sandbox {
 public:
  virtual ~Sandbox() = default;

  using ExecHandler = std::function<void(ExecResult)>;

  // Runs a bash command line in the persistent session (cwd, environment and shell state carry
  // over between calls). A timeout kills the command and everything it started, then starts a
  // fresh session; the result says so. Completion is posted to the io_context given at creation.
  virtual void async_run(std::string command, double timeout_s, ExecHandler done) = 0;
  // Runs argv as a fresh process beside the session.
  virtual void async_exec(ExecRequest request, ExecHandler done) = 0;

  // Blocking forms, for callers that do not run the io_context themselves (CLI, tests, tasks).
  // They must not be called from inside a handler running on the sandbox's io_context.
  virtual ExecResult run(std::string command, double timeout_s) = 0;
  virtual ExecResult exec(ExecRequest request) = 0;

  // File API (blocking; cheap). Errors come back as FileError, never as an exception.
  virtual std::variant<std::string, FileError> read_file(const std::string& path) = 0;
  // create_only: fail if the path exists. The parent directory must exist.
  virtual std::optional<FileError> write_file(const std::string& path, const std::string& data,
                                              bool create_only = false) = 0;
  virtual std::variant<std::vector<DirEntry>, FileError> list_dir(const std::string& path) = 0;
  virtual bool exists(const std::string& path) = 0;

  // Host path of the workspace's upper layer: exactly what the agent changed ("" when the
  // backend has none, e.g. Docker).
  virtual std::string upper_dir() const = 0;
  // Host path through which the host can read the workspace as the sandbox sees it
  // (e.g. /proc/<init>/root/testbed), or "" when the backend cannot offer one.
  virtual std::string merged_view() const = 0;

  // Kills every process of the sandbox (the session, every command and whatever they left
  // running) and returns once they are gone, so that nothing changes the workspace any more. The
  // changes stay readable on the host (upper_dir()) until destroy(); commands fail afterwards
  // (Docker: the container is restarted bare, so that a judge can still run commands in it). For
  // judging: what is read after this cannot be swapped under the reader. Idempotent.
  virtual void stop_processes() = 0;

  // Drops every change to the workspace and starts a fresh session.
  virtual void reset() = 0;
  // Kills everything and removes mounts, cgroups, temp dirs and fds. Idempotent; the destructor
  // calls it.
  virtual void destroy() = 0;
};

// Thrown when a sandbox cannot be created or used at all (not for a command's failure).
struct SandboxError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Thrown by the Docker backend when Config::docker_image is not present locally (nothing is
// pulled), so that a caller can say how to get that image.
struct SandboxImageMissing : SandboxError {
  SandboxImageMissing(const std::string& what, std::string image) : SandboxError(what), image(std::move(image)) {}
  std::string image;
};

enum class Backend { native, docker };
// "native" or "docker"; anything else throws std::invalid_argument naming the value.
Backend parse_backend(const std::string& name);

std::unique_ptr<Sandbox> make_sandbox(boost::asio::io_context& io, const Config& config,
                                      Backend backend = Backend::native);

// Who should own a workspace lower layer on the host. As root: root (0:0), and the tree is
// read-only to everyone else, each sandbox's own host uid included; each sandbox sees root-owned
// lower files as its own user's through an idmapped mount, so the agent can still edit them
// (overlay copy-up). Unprivileged: the caller's own ids (the only ones a sandbox can map).
struct HostIdentity {
  uint32_t uid;
  uint32_t gid;
};
HostIdentity workspace_lower_owner();

// The uid/gid the sandboxed command has inside the sandbox (native backend).
inline constexpr uint32_t kSandboxUid = 1000;
inline constexpr uint32_t kSandboxGid = 1000;

// Notes about degraded isolation on this host (e.g. "cgroups unavailable for memory, pids, cpu
// ...: rlimits stand in ..."); empty when everything is enforced. Filled once
// the first native sandbox was created.
std::vector<std::string> native_sandbox_notes();

// Starts the native backend's helper process (the zygote) now instead of with the first sandbox.
// It is forked from the calling process and every sandbox's processes from it, so call this while
// the process is small and has one thread: before loading a model or starting threads. Throws
// SandboxError when it cannot start.
void start_native_backend();

// Says that this process will make a single native sandbox (a one-shot command such as `swebox
// sandbox exec`): nothing is then made ahead of time (no spare, no shell), whose set-up would only
// take the CPU from the one sandbox. Call before the first sandbox.
void expect_single_sandbox();

// The native backend makes the next sandbox ahead of time when a config is asked for again (so
// that make_sandbox costs no set-up). Such a sandbox already has the workspace lowers mounted:
// as with any overlay, they must not change while it lives (change a lower's path, or call this
// first). This tears down the ones made ahead; none is made again until a config repeats. For
// leak checks, for callers about to idle for long, and before changing a workspace lower.
void release_spare_sandboxes();

}  // namespace swebox::sandbox
