// `swebox sandbox exec ...`: runs one command in a fresh sandbox and reports how it ended.
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <sys/stat.h>
#include <unistd.h>

#include "runner/command_line.h"
#include "sandbox/sandbox.h"
#include "sandbox/text_encoding.h"

namespace {

namespace sb = swebox::sandbox;

// "512M", "2G", "100k", "4096" → bytes; false when malformed.
bool parse_size(const std::string& s, uint64_t* out) {
  if (s.empty()) return false;
  char* end = nullptr;
  errno = 0;
  double v = std::strtod(s.c_str(), &end);
  if (errno || end == s.c_str() || v < 0 || !std::isfinite(v)) return false;
  std::string suffix(end);
  double mult = 1;
  if (suffix == "" || suffix == "b" || suffix == "B") mult = 1;
  else if (suffix == "k" || suffix == "K" || suffix == "KiB") mult = 1024.0;
  else if (suffix == "m" || suffix == "M" || suffix == "MiB") mult = 1024.0 * 1024;
  else if (suffix == "g" || suffix == "G" || suffix == "GiB") mult = 1024.0 * 1024 * 1024;
  else return false;
  *out = static_cast<uint64_t>(v * mult);
  return true;
}

// The overlay copies a file up under the original owner; an owner the sandbox's user namespace
// does not map makes that fail (EOVERFLOW), so such a workspace must be lent as a copy.
bool owned_by(const std::string& dir, sb::HostIdentity id) {
  namespace fs = std::filesystem;
  std::error_code ec;
  for (fs::recursive_directory_iterator it(dir, fs::directory_options::none, ec), end; !ec && it != end;
       it.increment(ec)) {
    struct stat st;
    if (lstat(it->path().c_str(), &st) != 0 || st.st_uid != id.uid || st.st_gid != id.gid) return false;
  }
  return !ec;
}

// Copies dir into a fresh temp dir owned by the sandbox's host identity; "" on failure (errno kept in *why).
std::string owned_copy(const std::string& dir, sb::HostIdentity id, std::string* why) {
  namespace fs = std::filesystem;
  std::string base = (std::getenv("TMPDIR") && *std::getenv("TMPDIR")) ? std::getenv("TMPDIR") : "/tmp";
  std::string templ = base + "/swebox-workspace-XXXXXX";
  if (!mkdtemp(templ.data())) {
    *why = std::string("mkdtemp in ") + base + ": " + std::strerror(errno);
    return "";
  }
  std::error_code ec;
  fs::copy(dir, templ, fs::copy_options::recursive | fs::copy_options::copy_symlinks, ec);
  if (ec) {
    *why = "copying " + dir + ": " + ec.message();
    fs::remove_all(templ, ec);
    return "";
  }
  if (lchown(templ.c_str(), id.uid, id.gid) != 0) *why = std::strerror(errno);
  for (fs::recursive_directory_iterator it(templ), end; it != end; ++it)
    if (lchown(it->path().c_str(), id.uid, id.gid) != 0) *why = it->path().string() + ": " + std::strerror(errno);
  if (!why->empty()) {
    fs::remove_all(templ, ec);
    return "";
  }
  return templ;
}

void write_all(FILE* to, const std::string& data) {
  if (!data.empty()) std::fwrite(data.data(), 1, data.size(), to);
  std::fflush(to);
}

// CLI11 check of a size ("512M", "2G") of at least `lowest` bytes.
CLI::Validator size_at_least(uint64_t lowest) {
  return CLI::Validator(
      [lowest](std::string& s) -> std::string {
        uint64_t bytes;
        if (!parse_size(s, &bytes) || bytes < lowest) return "must be a size of at least " + std::to_string(lowest) + " bytes (e.g. 512M, 2G), not '" + s + "'";
        return "";
      },
      "");
}

CLI::Validator env_assignment() {
  return CLI::Validator(
      [](std::string& s) -> std::string {
        if (s.find('=') == std::string::npos || s[0] == '=') return "must be NAME=VALUE, not '" + s + "'";
        return "";
      },
      "");
}

struct ExecArgs {
  sb::Config config;
  double timeout = 60;
  bool json = false;
  bool workspace_as_is = false;
  std::string memory = "2G", output_bytes = "1048576", net = "none", workspace;
  std::vector<std::string> env, cmd;
};

int exec_command(ExecArgs& a) {
  sb::Config& config = a.config;
  if (!parse_size(a.memory, &config.limits.memory_bytes) || !parse_size(a.output_bytes, &config.limits.output_bytes))
    throw std::logic_error("a size passed its check but does not parse");
  config.network = a.net == "loopback" ? sb::Network::loopback : sb::Network::none;
  if (!a.workspace.empty()) config.workspace_lowers = {a.workspace};
  for (const std::string& v : a.env) config.env.emplace_back(v.substr(0, v.find('=')), v.substr(v.find('=') + 1));
  const bool json = a.json, workspace_as_is = a.workspace_as_is;
  const double timeout = a.timeout;
  const std::vector<std::string>& cmd = a.cmd;

  std::string workspace_copy;
  if (!config.workspace_lowers.empty() && !workspace_as_is && geteuid() == 0 &&
      !owned_by(config.workspace_lowers[0], sb::workspace_lower_owner())) {
    std::string why;
    workspace_copy = owned_copy(config.workspace_lowers[0], sb::workspace_lower_owner(), &why);
    if (workspace_copy.empty()) {
      std::fprintf(stderr, "swebox sandbox: cannot make a private copy of the workspace %s: %s\n"
                   "(use --workspace-as-is to lend it read-only as it is)\n",
                   config.workspace_lowers[0].c_str(), why.c_str());
      return 125;
    }
    std::fprintf(stderr, "swebox sandbox: note: %s has files of other owners; the command works on a private copy\n",
                 config.workspace_lowers[0].c_str());
    config.workspace_lowers = {workspace_copy};
  }
  // Removes the private copy whatever way this function returns.
  struct RemoveOnExit {
    std::string path;
    ~RemoveOnExit() {
      std::error_code ec;
      if (!path.empty()) std::filesystem::remove_all(path, ec);
    }
  } remove_copy{workspace_copy};

  boost::asio::io_context io;
  std::unique_ptr<sb::Sandbox> box;
  sb::expect_single_sandbox();
  try {
    box = sb::make_sandbox(io, config);
  } catch (const sb::SandboxError& e) {
    std::fprintf(stderr, "swebox sandbox: cannot create the sandbox: %s\n", e.what());
    return 125;
  }
  for (const auto& note : sb::native_sandbox_notes()) std::fprintf(stderr, "swebox sandbox: note: %s\n", note.c_str());
  sb::ExecRequest req;
  req.argv = cmd;
  req.timeout_s = timeout;
  sb::ExecResult r = box->exec(req);
  std::string upper = config.state_dir.empty() ? "" : box->upper_dir();
  box->destroy();

  if (r.reason == sb::StopReason::error) {
    std::fprintf(stderr, "swebox sandbox: %s\n", r.detail.c_str());
    if (!json) return 125;
  }
  if (json) {
    bool out_replaced = false, err_replaced = false;
    nlohmann::json j;
    j["exit_code"] = r.exit_code;
    j["signal"] = r.signal;
    j["status"] = r.status();
    j["stdout"] = sb::to_valid_utf8(r.out, &out_replaced);
    j["stderr"] = sb::to_valid_utf8(r.err, &err_replaced);
    j["stdout_truncated"] = r.out_truncated;
    j["stderr_truncated"] = r.err_truncated;
    j["encoding"] = (out_replaced || err_replaced) ? "utf-8-replaced" : "utf-8";
    j["wall_s"] = r.wall_s;
    j["reason"] = sb::to_string(r.reason);
    j["detail"] = r.detail;
    j["upper_dir"] = upper.empty() ? nlohmann::json(nullptr) : nlohmann::json(upper);
    write_all(stdout, j.dump() + "\n");
  } else {
    write_all(stdout, r.out);
    write_all(stderr, r.err);
    if (!r.detail.empty() && r.reason != sb::StopReason::exited)
      std::fprintf(stderr, "swebox sandbox: %s\n", r.detail.c_str());
  }
  if (r.reason == sb::StopReason::error) return 125;
  return r.status();
}

}  // namespace

int cmd_sandbox(int argc, char** argv) {
  using namespace swebox::runner;
  ExecArgs a;
  a.config.limits.cpus = 2;
  CLI::App app{"", "swebox sandbox"};
  describe_command(app,
                   "Runs a command in a fresh sandbox (user, mount, pid, ipc, uts, network and cgroup namespaces, an\n"
                   "allowlist root, seccomp, no capabilities, uid 1000) and exits with its status: the command's exit\n"
                   "code, or 128+N when signal N killed it (a timeout is SIGKILL: 137); 125 when the sandbox failed.",
                   {"swebox sandbox exec -- python3 -c 'print(1)'",
                    "swebox sandbox exec --timeout 10 --memory 512M --json -- sh -c 'echo hi'",
                    "swebox sandbox exec --workspace repo/ --state-dir state/ -- make test"});
  app.require_subcommand(1);
  CLI::App* exec = app.add_subcommand("exec", "run CMD (after --) in a fresh sandbox");
  exec->add_option("--timeout", a.timeout, "wall-clock limit in seconds; everything the command started is killed")
      ->check(number_above_zero())
      ->capture_default_str();
  exec->add_option("--memory", a.memory, "memory limit, e.g. 512M, 2G")->type_name("SIZE")->check(size_at_least(1 << 20))->capture_default_str();
  exec->add_option("--pids", a.config.limits.pids, "process limit")->check(whole_number_in(1, 4194304))->capture_default_str();
  exec->add_option("--cpus", a.config.limits.cpus, "CPU quota in cores, 0 = none")->check(number_at_least_zero())->capture_default_str();
  exec->add_option("--net", a.net, "none | loopback")->type_name("NET")->check(CLI::IsMember({"none", "loopback"}).description(""))->capture_default_str();
  exec->add_option("--rootfs", a.config.rootfs,
                   "read-only root filesystem, shown whole (default: of the host's /, only the system; sandbox/README.md)")
      ->type_name("DIR")
      ->check(CLI::ExistingDirectory.description(""));
  exec->add_option("--workspace", a.workspace,
                   "host dir lent read-only as the workspace's lower layer, seen at /testbed; changes go to an upper "
                   "dir (removed at exit unless --state-dir); when some file of DIR has another owner than root, the "
                   "command works on a private copy. Without --workspace and --state-dir, /testbed is an empty tmpfs "
                   "of at most half the memory limit")
      ->type_name("DIR")
      ->check(CLI::ExistingDirectory.description(""));
  exec->add_flag("--workspace-as-is", a.workspace_as_is, "lend DIR as it is even then (files of other owners stay read-only)");
  exec->add_option("--state-dir", a.config.state_dir, "keep the workspace's upper/ (exactly what the command changed) in DIR")
      ->type_name("DIR");
  exec->add_option("--output-bytes", a.output_bytes, "captured bytes per stream before truncation")
      ->type_name("SIZE")
      ->check(size_at_least(0))
      ->capture_default_str();
  exec->add_option("--env", a.env, "add NAME=VALUE to the command's environment (repeatable)")
      ->type_name("NAME=VALUE")
      ->check(env_assignment())
      ->allow_extra_args(false)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  exec->add_flag("--json", a.json,
                 "print one JSON object instead of the command's output: exit_code, signal, status, stdout, stderr, "
                 "stdout_truncated, stderr_truncated, encoding (utf-8 | utf-8-replaced), wall_s, reason, detail, upper_dir");
  exec->add_option("command", a.cmd, "the command and its arguments, after --")
      ->required()
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  if (auto status = parse_command_line(app, argc, argv)) return *status;
  return exec_command(a);
}
