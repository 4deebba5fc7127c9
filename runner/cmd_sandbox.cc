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

#include "sandbox/sandbox.h"
#include "sandbox/text_encoding.h"

namespace {

namespace sb = swebox::sandbox;

constexpr const char* kUsage = R"(usage: swebox sandbox exec [OPTIONS] -- CMD [ARGS...]

Runs CMD in a fresh sandbox (native backend: user, mount, pid, ipc, uts, network and cgroup
namespaces, read-only host root, seccomp, no capabilities, uid 1000) and exits with its status:
the command's exit code, or 128+N when it was killed by signal N (a timeout is SIGKILL: 137).

options:
  --timeout SECONDS   wall-clock limit; everything the command started is killed (default 60)
  --memory SIZE       memory limit, e.g. 512M, 2G (default 2G)
  --pids N            process limit (default 512)
  --cpus N            CPU quota in cores, 0 = none (default 2)
  --net none|loopback network: none (default) or loopback only
  --rootfs DIR        read-only root filesystem, shown whole (default: of the host's /, only the
                      system: /usr, /bin, /sbin, /lib*, a filtered /etc; see sandbox/README.md)
  --workspace DIR     host dir used as the workspace's read-only lower layer, seen at /testbed;
                      changes go to an upper dir: a temp dir removed at exit, unless --state-dir;
                      the command is uid 1000 inside, a host uid of its own (when run as root)
                      that sees DIR's root-owned files as its own (idmapped mount); when some
                      file of DIR has another owner, the command works on a private copy owned
                      by root (DIR itself is never written; said on stderr)
  --workspace-as-is   use DIR as the lower layer even then (files of other owners stay read-only)
                      (without --workspace and --state-dir, /testbed is an empty tmpfs of at most
                      half the memory limit)
  --state-dir DIR     keep the workspace's upper/ (exactly what the command changed) in DIR
  --output-bytes N    captured bytes per stream before truncation (default 1048576)
  --env NAME=VALUE    add to the command's environment (repeatable)
  --json              print one JSON object instead of the command's output:
                      {"exit_code","signal","status","stdout","stderr","stdout_truncated",
                       "stderr_truncated","encoding","wall_s","reason","detail","upper_dir"}
                      ("encoding" is "utf-8", or "utf-8-replaced" when invalid bytes were
                      replaced by U+FFFD; "upper_dir" is null without --state-dir)
  -h, --help          this text
)";

int usage_error(const std::string& what) {
  std::fprintf(stderr, "swebox sandbox: %s\n(see 'swebox sandbox --help')\n", what.c_str());
  return 2;
}

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

bool parse_number(const std::string& s, double* out) {
  char* end = nullptr;
  errno = 0;
  double v = std::strtod(s.c_str(), &end);
  if (s.empty() || errno || *end || v < 0 || !std::isfinite(v)) return false;
  *out = v;
  return true;
}

bool is_dir(const std::string& p) {
  struct stat st;
  return stat(p.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
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

int exec_command(int argc, char** argv) {
  sb::Config config;
  config.limits.cpus = 2;
  double timeout = 60;
  bool json = false;
  bool workspace_as_is = false;
  int i = 1;
  std::vector<std::string> cmd;
  for (; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&](std::string* v) {
      if (i + 1 >= argc) return false;
      *v = argv[++i];
      return true;
    };
    std::string v;
    if (a == "--") {
      ++i;
      break;
    } else if (a == "-h" || a == "--help") {
      std::fputs(kUsage, stdout);
      return 0;
    } else if (a == "--json") {
      json = true;
    } else if (a == "--timeout") {
      if (!value(&v) || !parse_number(v, &timeout) || timeout <= 0)
        return usage_error("--timeout needs a positive number of seconds");
    } else if (a == "--memory") {
      if (!value(&v) || !parse_size(v, &config.limits.memory_bytes) || config.limits.memory_bytes < (1 << 20))
        return usage_error("--memory needs a size of at least 1M, e.g. 512M or 2G");
    } else if (a == "--pids") {
      double n;
      if (!value(&v) || !parse_number(v, &n) || n < 1 || n != std::floor(n) || n > 4194304)
        return usage_error("--pids needs a whole number of processes >= 1");
      config.limits.pids = static_cast<uint32_t>(n);
    } else if (a == "--cpus") {
      if (!value(&v) || !parse_number(v, &config.limits.cpus)) return usage_error("--cpus needs a number >= 0");
    } else if (a == "--output-bytes") {
      if (!value(&v) || !parse_size(v, &config.limits.output_bytes))
        return usage_error("--output-bytes needs a size");
    } else if (a == "--net") {
      if (!value(&v)) return usage_error("--net needs none or loopback");
      if (v == "none") config.network = sb::Network::none;
      else if (v == "loopback") config.network = sb::Network::loopback;
      else return usage_error("--net must be none or loopback, not '" + v + "'");
    } else if (a == "--rootfs") {
      if (!value(&v) || !is_dir(v)) return usage_error("--rootfs needs an existing directory");
      config.rootfs = v;
    } else if (a == "--workspace") {
      if (!value(&v) || !is_dir(v)) return usage_error("--workspace needs an existing directory");
      config.workspace_lowers = {v};
    } else if (a == "--workspace-as-is") {
      workspace_as_is = true;
    } else if (a == "--state-dir") {
      if (!value(&v) || v.empty()) return usage_error("--state-dir needs a directory");
      config.state_dir = v;
    } else if (a == "--env") {
      if (!value(&v) || v.find('=') == std::string::npos || v[0] == '=')
        return usage_error("--env needs NAME=VALUE");
      config.env.emplace_back(v.substr(0, v.find('=')), v.substr(v.find('=') + 1));
    } else {
      return usage_error("unknown option '" + a + "'");
    }
  }
  for (; i < argc; ++i) cmd.push_back(argv[i]);
  if (cmd.empty()) return usage_error("no command given (put it after --)");

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
  if (argc < 2) {
    std::fputs(kUsage, stderr);
    return 2;
  }
  std::string sub = argv[1];
  if (sub == "-h" || sub == "--help" || sub == "help") {
    std::fputs(kUsage, stdout);
    return 0;
  }
  if (sub == "exec") return exec_command(argc - 1, argv + 1);
  return usage_error("unknown subcommand '" + sub + "' (only 'exec' exists)");
}
