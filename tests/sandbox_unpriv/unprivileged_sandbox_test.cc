// The native sandbox run by an unprivileged user: `swebox sandbox exec --json` started as a uid
// with no privileges (dropped with setgroups/setresgid/setresuid in a forked child before execve),
// as a user without root would run it. CI runs as root, so this is the only automated check of
// that path. Each test process uses its own high uid, which nothing else on the host uses, so
// that every process and file of that uid is attributable to it (ctest -j runs cases at once).
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <dirent.h>
#include <grp.h>
#include <sched.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;


std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Whether `id` is mapped in this process's user namespace (a container may map only 65536 ids).
bool id_mapped(const std::string& map_file, uint64_t id) {
  std::istringstream map(read_text(map_file));
  for (uint64_t inside, outside, count; map >> inside >> outside >> count;)
    if (id >= inside && id < inside + count) return true;
  return false;
}

// The test process's own uid (and gid) for its unprivileged user: far above any account, subuid
// range or the root-mode sandbox id (100000); in 60000..64999 where only 65536 ids are mapped.
uid_t test_uid() {
  uid_t high = 1'500'000'000u + static_cast<uid_t>(getpid());
  if (id_mapped("/proc/self/uid_map", high) && id_mapped("/proc/self/gid_map", high)) return high;
  return 60000 + static_cast<uid_t>(getpid()) % 5000;
}

void write_text(const std::string& path, const std::string& data, mode_t mode) {
  std::ofstream(path, std::ios::binary) << data;
  REQUIRE_MESSAGE(chmod(path.c_str(), mode) == 0, "chmod ", path, ": ", std::strerror(errno));
}

std::string trimmed(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

// Why the unprivileged path cannot be tried on this host, or "" when it can. Checked once.
const std::string& skip_reason() {
  static const std::string reason = [] () -> std::string {
    if (geteuid() != 0)
      return "not running as root: the test cannot switch to a dedicated unprivileged uid "
             "(run the test area as root, as CI does)";
    std::string clone = trimmed(read_text("/proc/sys/kernel/unprivileged_userns_clone"));
    if (clone == "0")
      return "the kernel forbids unprivileged user namespaces (/proc/sys/kernel/unprivileged_userns_clone = 0)";
    std::string max = trimmed(read_text("/proc/sys/user/max_user_namespaces"));
    if (max == "0") return "user namespaces are disabled (/proc/sys/user/max_user_namespaces = 0)";
    // The decisive probe: unshare(CLONE_NEWUSER) as an unprivileged uid (AppArmor's
    // apparmor_restrict_unprivileged_userns or a seccomp filter may forbid it where the knobs allow it).
    uid_t probe_uid = test_uid();
    pid_t pid = fork();
    if (pid < 0) return std::string("fork failed: ") + std::strerror(errno);
    if (pid == 0) {
      // Exit status: 0 when it worked, errno of unshare, or 128 + errno of dropping privileges.
      if (setgroups(0, nullptr) != 0 || setresgid(probe_uid, probe_uid, probe_uid) != 0 ||
          setresuid(probe_uid, probe_uid, probe_uid) != 0)
        _exit(128 + (errno & 0x7f));
      _exit(unshare(CLONE_NEWUSER) == 0 ? 0 : (errno & 0x7f));
    }
    int st = 0;
    waitpid(pid, &st, 0);
    if (!WIFEXITED(st) || WEXITSTATUS(st) >= 128)
      return "this root cannot become uid " + std::to_string(probe_uid) + " (" +
             (WIFEXITED(st) ? std::strerror(WEXITSTATUS(st) - 128) : "the probe was killed") +
             "), e.g. it is root only inside a user namespace that maps no other id";
    if (WEXITSTATUS(st) != 0) {
      std::string why = "unshare(CLONE_NEWUSER) as uid " + std::to_string(probe_uid) + " fails: " +
                        std::strerror(WEXITSTATUS(st)) + "; the kernel (or a security module) forbids "
                        "unprivileged user namespaces";
      std::string aa = trimmed(read_text("/proc/sys/kernel/apparmor_restrict_unprivileged_userns"));
      if (aa == "1") why += " (kernel.apparmor_restrict_unprivileged_userns = 1)";
      return why;
    }
    return "";
  }();
  return reason;
}

#define SKIP_UNLESS_UNPRIVILEGED_POSSIBLE()                                  \
  do {                                                                       \
    if (!skip_reason().empty()) {                                            \
      MESSAGE("skipped: ", skip_reason());                                   \
      return;                                                                \
    }                                                                        \
  } while (0)

struct RunResult {
  int status = -1;   // exit status of the program (128+N when killed by signal N)
  std::string out;   // its stdout
  std::string err;   // its stderr (swebox's notes are here)
  nlohmann::json json;  // stdout parsed, when it is JSON
};

// One unprivileged user for the test: a dedicated uid/gid, a host dir tree root owns (0755) with a
// home that the user owns (HOME and TMPDIR), and the swebox binary at a path the user can reach.
// Everything it made is removed at destruction; processes of the uid still alive then are killed.
class UnprivilegedUser {
 public:
  UnprivilegedUser() : uid_(test_uid()) {
    char templ[] = "/tmp/swebox-unpriv-XXXXXX";
    REQUIRE_MESSAGE(mkdtemp(templ) != nullptr, "mkdtemp in /tmp: ", std::strerror(errno));
    base_ = templ;
    chmod(base_.c_str(), 0755);
    home_ = make_owned_dir("home");
    binary_ = reachable_binary();
  }
  ~UnprivilegedUser() {
    for (pid_t pid : processes()) kill(pid, SIGKILL);
    std::error_code ec;
    fs::remove_all(base_, ec);
  }
  UnprivilegedUser(const UnprivilegedUser&) = delete;
  UnprivilegedUser& operator=(const UnprivilegedUser&) = delete;

  uid_t uid() const { return uid_; }
  const std::string& home() const { return home_; }
  const std::string& base() const { return base_; }

  // A directory under the test's tree owned by the user (mode 0755).
  std::string make_owned_dir(const std::string& name) const {
    std::string dir = base_ + "/" + name;
    std::error_code ec;
    fs::create_directories(dir, ec);
    REQUIRE_MESSAGE(!ec, "mkdir ", dir, ": ", ec.message());
    chown_tree(dir);
    return dir;
  }
  void chown_tree(const std::string& dir) const {
    REQUIRE(lchown(dir.c_str(), uid_, uid_) == 0);
    for (const auto& e : fs::recursive_directory_iterator(dir)) REQUIRE(lchown(e.path().c_str(), uid_, uid_) == 0);
  }

  // `swebox sandbox exec --json <args>` as the user.
  RunResult swebox_exec(const std::vector<std::string>& args, double limit_s = 30) const {
    std::vector<std::string> argv = {binary_, "sandbox", "exec", "--json"};
    argv.insert(argv.end(), args.begin(), args.end());
    RunResult r = run(argv, limit_s);
    std::string shown;
    for (size_t i = 4; i < argv.size(); ++i) shown += " " + argv[i];
    MESSAGE("as uid ", uid_, ": swebox sandbox exec --json", shown, "\n-> status ", r.status, "\nstdout: ",
            r.out.substr(0, 1500), "\nstderr: ", r.err.substr(0, 1500));
    r.json = nlohmann::json::parse(r.out, nullptr, false);
    return r;
  }

  // argv run as the user, with only HOME, TMPDIR, PATH and LANG in its environment. Killed (and
  // the test failed) after limit_s.
  RunResult run(const std::vector<std::string>& argv, double limit_s = 30) const {
    std::vector<std::string> env = {"HOME=" + home_, "TMPDIR=" + home_, "LANG=C.UTF-8",
                                    "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"};
    std::vector<char*> cargv, cenv;
    for (const auto& a : argv) cargv.push_back(const_cast<char*>(a.c_str()));
    for (const auto& e : env) cenv.push_back(const_cast<char*>(e.c_str()));
    cargv.push_back(nullptr);
    cenv.push_back(nullptr);
    int out[2], err[2];
    REQUIRE(pipe2(out, O_CLOEXEC) == 0);
    REQUIRE(pipe2(err, O_CLOEXEC) == 0);
    pid_t pid = fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
      dup2(out[1], 1);
      dup2(err[1], 2);
      int devnull = open("/dev/null", O_RDONLY);
      if (devnull >= 0) dup2(devnull, 0);
      if (chdir(home_.c_str()) != 0 || setgroups(0, nullptr) != 0 || setresgid(uid_, uid_, uid_) != 0 ||
          setresuid(uid_, uid_, uid_) != 0) {
        dprintf(2, "cannot become uid %u: %s\n", uid_, std::strerror(errno));
        _exit(126);
      }
      execve(cargv[0], cargv.data(), cenv.data());
      dprintf(2, "cannot run %s as uid %u: %s\n", cargv[0], uid_, std::strerror(errno));
      _exit(127);
    }
    close(out[1]);
    close(err[1]);
    RunResult r;
    pollfd fds[2] = {{out[0], POLLIN, 0}, {err[0], POLLIN, 0}};
    auto deadline = Clock::now() + std::chrono::milliseconds(static_cast<int>(limit_s * 1000));
    bool killed = false;
    while (fds[0].fd >= 0 || fds[1].fd >= 0) {
      int left = static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count());
      if (left <= 0) {
        kill(pid, SIGKILL);
        killed = true;
        break;
      }
      if (poll(fds, 2, left) < 0 && errno != EINTR) break;
      for (int i = 0; i < 2; ++i) {
        if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
        char buf[8192];
        ssize_t n = read(fds[i].fd, buf, sizeof buf);
        if (n > 0) {
          (i == 0 ? r.out : r.err).append(buf, n);
        } else if (n == 0 || errno != EINTR) {
          close(fds[i].fd);
          fds[i].fd = -1;
        }
      }
    }
    for (auto& f : fds)
      if (f.fd >= 0) close(f.fd);
    int st = 0;
    waitpid(pid, &st, 0);
    r.status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    CHECK_MESSAGE(!killed, argv[0], " as uid ", uid_, " did not finish within ", limit_s, " s");
    return r;
  }

  // Host pids whose real, effective or saved uid is the user's, and how many of them are zombies.
  std::vector<pid_t> processes(int* zombies = nullptr) const {
    std::vector<pid_t> found;
    if (zombies) *zombies = 0;
    DIR* d = opendir("/proc");
    if (!d) return found;
    while (dirent* e = readdir(d)) {
      pid_t pid = atoi(e->d_name);
      if (pid <= 0) continue;
      std::string status = read_text("/proc/" + std::string(e->d_name) + "/status");
      size_t u = status.find("\nUid:");
      if (u == std::string::npos) continue;
      std::istringstream ids(status.substr(u + 5, status.find('\n', u + 1) - u - 5));
      uid_t real, eff, saved;
      ids >> real >> eff >> saved;
      if (real != uid_ && eff != uid_ && saved != uid_) continue;
      found.push_back(pid);
      if (zombies && status.find("\nState:\tZ") != std::string::npos) ++*zombies;
    }
    closedir(d);
    return found;
  }

  // After the last swebox run: within a few seconds no process of the uid runs, its home (TMPDIR)
  // is empty again, and it owns nothing in the host's shared temp dirs. Zombies waiting for the
  // host's PID 1 to reap them are reported, not counted: they hold no resources but a pid.
  void expect_nothing_left() const {
    std::vector<pid_t> procs;
    std::vector<std::string> files;
    int zombies = 0;
    auto deadline = Clock::now() + std::chrono::seconds(5);
    do {
      procs = processes(&zombies);
      files = owned_temp_entries();
      if (procs.size() == static_cast<size_t>(zombies) && files.empty()) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    } while (Clock::now() < deadline);
    std::string listing;
    for (pid_t pid : procs) listing += std::to_string(pid) + " " + trimmed(read_text("/proc/" + std::to_string(pid) + "/comm")) + "; ";
    size_t live = procs.size() - static_cast<size_t>(zombies);
    CHECK_MESSAGE(live == 0, live, " live process(es) of uid ", uid_, " outlived swebox: ", listing);
    if (zombies) MESSAGE(zombies, " zombie(s) of uid ", uid_, " wait for PID 1 to reap them: ", listing);
    std::string names;
    for (const auto& f : files) names += f + " ";
    CHECK_MESSAGE(files.empty(), "temp files of uid ", uid_, " left behind: ", names);
  }

 private:
  // Entries in the user's home, and entries the uid owns directly under the host's /tmp, /var/tmp, /dev/shm.
  std::vector<std::string> owned_temp_entries() const {
    std::vector<std::string> found;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(home_, ec)) found.push_back(e.path().string());
    for (const char* dir : {"/tmp", "/var/tmp", "/dev/shm"}) {
      for (const auto& e : fs::directory_iterator(dir, ec)) {
        struct stat st;
        if (lstat(e.path().c_str(), &st) == 0 && st.st_uid == uid_) found.push_back(e.path().string());
      }
    }
    return found;
  }

  // The build's swebox when every directory above it lets others through; otherwise a hard link
  // (or copy) in the test's tree, e.g. for a clone under /root (0700).
  std::string reachable_binary() const {
    std::string bin = SWEBOX_BINARY;
    bool reachable = true;
    for (fs::path p = fs::path(bin).parent_path(); !p.empty() && p != p.root_path(); p = p.parent_path()) {
      struct stat st;
      if (stat(p.c_str(), &st) != 0 || !(st.st_mode & S_IXOTH)) reachable = false;
    }
    struct stat st;
    REQUIRE_MESSAGE(stat(bin.c_str(), &st) == 0, "no swebox binary at ", bin, ": build the swebox target");
    if (reachable && (st.st_mode & S_IXOTH)) return bin;
    std::string copy = base_ + "/swebox";
    if (link(bin.c_str(), copy.c_str()) != 0) {
      std::error_code ec;
      fs::copy_file(bin, copy, ec);
      REQUIRE_MESSAGE(!ec, "cannot copy ", bin, " to ", copy, ": ", ec.message());
    }
    chmod(copy.c_str(), 0755);
    MESSAGE(bin, " is not reachable by other users; running ", copy);
    return copy;
  }

  uid_t uid_;
  std::string base_;
  std::string home_;
  std::string binary_;
};

// The command's JSON result; fails the test when swebox did not print one.
const nlohmann::json& result_json(const RunResult& r) {
  REQUIRE_MESSAGE(r.json.is_object(), "swebox printed no JSON object (status ", r.status, "): ", r.out, r.err);
  return r.json;
}

// A python3 script in a fresh sandbox with the given limit options (and a 20 s timeout).
RunResult python3_in_sandbox(const UnprivilegedUser& user, std::vector<std::string> options, const std::string& script) {
  for (const char* a : {"--timeout", "20", "--", "/usr/bin/python3", "-c"}) options.push_back(a);
  options.push_back(script);
  return user.swebox_exec(options);
}

// swebox's "note: ..." lines on stderr (degraded isolation).
std::string notes(const RunResult& r) {
  std::string found;
  std::istringstream lines(r.err);
  for (std::string line; std::getline(lines, line);)
    if (line.find("note:") != std::string::npos) found += line + "\n";
  return found;
}

// A TCP listener on the host's 127.0.0.1 (in this, root's, network namespace).
class HostListener {
 public:
  HostListener() {
    fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    REQUIRE(fd_ >= 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    REQUIRE(listen(fd_, 16) == 0);
    socklen_t len = sizeof a;
    REQUIRE(getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len) == 0);
    port_ = ntohs(a.sin_port);
  }
  ~HostListener() { close(fd_); }
  int port() const { return port_; }
  // Accepts and closes every pending connection; how many there were.
  int drain() const {
    int n = 0;
    for (int c; (c = accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC)) >= 0; ++n) close(c);
    return n;
  }

 private:
  int fd_ = -1;
  int port_ = 0;
};

}  // namespace

TEST_CASE("unprivileged user: sandbox exec returns the command's exit code, stdout and stderr") {
  SKIP_UNLESS_UNPRIVILEGED_POSSIBLE();
  UnprivilegedUser user;
  RunResult r = user.swebox_exec({"--", "sh", "-c", "echo hello; echo oops >&2; exit 7"});
  const auto& j = result_json(r);
  CHECK(r.status == 7);
  CHECK(j.value("reason", "") == "exited");
  CHECK(j.value("exit_code", -1) == 7);
  CHECK(j.value("status", -1) == 7);
  CHECK(j.value("stdout", "") == "hello\n");
  CHECK(j.value("stderr", "") == "oops\n");
  user.expect_nothing_left();
}

TEST_CASE("unprivileged user: the command is uid 1000 mapped to that user, without capabilities, under seccomp, in its own namespaces") {
  SKIP_UNLESS_UNPRIVILEGED_POSSIBLE();
  UnprivilegedUser user;
  RunResult r = user.swebox_exec(
      {"--", "sh", "-c",
       "echo uid=$(id -u); echo gid=$(id -g); echo uid_map=$(cat /proc/self/uid_map); "
       "echo gid_map=$(cat /proc/self/gid_map); grep -E '^(CapEff|CapPrm|NoNewPrivs|Seccomp):' /proc/self/status; "
       "for ns in user pid net mnt; do echo ns_$ns=$(readlink /proc/self/ns/$ns); done"});
  std::map<std::string, std::string> seen;  // "key=value" and "Key:\tvalue" lines
  std::istringstream lines(result_json(r).value("stdout", ""));
  for (std::string line; std::getline(lines, line);) {
    size_t sep = line.find_first_of("=:");
    if (sep == std::string::npos) continue;
    size_t value = line.find_first_not_of(" \t", sep + 1);
    seen[line.substr(0, sep)] = value == std::string::npos ? "" : line.substr(value);
  }
  CHECK(seen["uid"] == "1000");
  CHECK(seen["gid"] == "1000");
  // 1000 inside is the unprivileged host id, one id only: nothing maps to host root.
  std::string id = std::to_string(user.uid());
  CHECK(seen["uid_map"] == "1000 " + id + " 1");
  CHECK(seen["gid_map"] == "1000 " + id + " 1");
  CHECK(seen["CapEff"] == "0000000000000000");
  CHECK(seen["CapPrm"] == "0000000000000000");
  CHECK(seen["NoNewPrivs"] == "1");
  CHECK(seen["Seccomp"] == "2");  // a filter is installed
  for (const char* ns : {"user", "pid", "net", "mnt"}) {
    CAPTURE(ns);
    char host[64] = {0};
    REQUIRE(readlink(("/proc/self/ns/" + std::string(ns)).c_str(), host, sizeof host - 1) > 0);
    CHECK(seen["ns_" + std::string(ns)].rfind(std::string(ns) + ":[", 0) == 0);
    CHECK(seen["ns_" + std::string(ns)] != host);
  }
  user.expect_nothing_left();
}

TEST_CASE("unprivileged user: the command cannot read a root-only host file it can see") {
  SKIP_UNLESS_UNPRIVILEGED_POSSIBLE();
  UnprivilegedUser user;
  // A root-only secret where the sandbox sees the host (the system dirs; its /tmp is its own tmpfs).
  char templ[] = "/usr/share/swebox-unpriv-secret-XXXXXX";
  REQUIRE(mkdtemp(templ) != nullptr);
  struct RemoveDir {
    std::string path;
    ~RemoveDir() { std::error_code ec; fs::remove_all(path, ec); }
  } remove_secret{templ};
  chmod(templ, 0755);
  std::string secret = "swebox-unpriv-secret-" + std::to_string(getpid());
  std::string file = std::string(templ) + "/secret";
  write_text(file, secret + "\n", 0600);
  struct stat st;
  bool shadow_private = stat("/etc/shadow", &st) == 0 && !(st.st_mode & S_IROTH);

  RunResult r = user.swebox_exec(
      {"--", "sh", "-c",
       "test -e " + file + " && echo visible; cat " + file + " || echo denied; " +
           (shadow_private ? "cat /etc/shadow >/dev/null || echo shadow-denied" : "echo shadow-absent")});
  const auto& j = result_json(r);
  // Present, so "denied" is a matter of permission, not absence.
  CHECK(j.value("stdout", "") == std::string("visible\ndenied\n") + (shadow_private ? "shadow-denied\n" : "shadow-absent\n"));
  CHECK(j.value("stderr", "").find("Permission denied") != std::string::npos);
  CHECK(r.out.find(secret) == std::string::npos);
  user.expect_nothing_left();
}

TEST_CASE("unprivileged user: the workspace is an overlay: the host lower layer is unchanged and the upper holds the changes") {
  SKIP_UNLESS_UNPRIVILEGED_POSSIBLE();
  UnprivilegedUser user;
  std::string ws = user.base() + "/workspace";
  fs::create_directories(ws + "/src");
  write_text(ws + "/a.txt", "original\n", 0644);
  write_text(ws + "/src/gone.txt", "delete me\n", 0644);
  user.chown_tree(ws);
  std::string state = user.make_owned_dir("state");

  RunResult r = user.swebox_exec(
      {"--workspace", ws, "--state-dir", state, "--", "sh", "-c",
       "cd /testbed && echo changed > a.txt && echo new > b.txt && rm src/gone.txt && cat a.txt b.txt && ls -A src"});
  const auto& j = result_json(r);
  CHECK(j.value("exit_code", -1) == 0);
  CHECK(j.value("stdout", "") == "changed\nnew\n");  // the sandbox sees its own changes
  // The lower layer is untouched.
  CHECK(read_text(ws + "/a.txt") == "original\n");
  CHECK(read_text(ws + "/src/gone.txt") == "delete me\n");
  CHECK_FALSE(fs::exists(ws + "/b.txt"));
  // The upper holds exactly what changed: a.txt, b.txt and a whiteout for the deleted file.
  REQUIRE(j["upper_dir"].is_string());
  std::string upper = j["upper_dir"].get<std::string>();
  CHECK(upper.rfind(state, 0) == 0);
  CHECK(read_text(upper + "/a.txt") == "changed\n");
  CHECK(read_text(upper + "/b.txt") == "new\n");
  struct stat st;
  REQUIRE(lstat((upper + "/src/gone.txt").c_str(), &st) == 0);
  CHECK(S_ISCHR(st.st_mode));
  CHECK(st.st_rdev == 0);
  // A workspace the user owns is used as it is (no private copy is needed without root).
  CHECK(r.err.find("private copy") == std::string::npos);
  user.expect_nothing_left();
}

TEST_CASE("unprivileged user: writes outside the workspace do not reach the host, even where the host user may write") {
  SKIP_UNLESS_UNPRIVILEGED_POSSIBLE();
  UnprivilegedUser user;
  std::string name = "swebox-unpriv-probe-" + std::to_string(getpid());
  // /var/tmp and /dev/shm are world-writable on the host: the user could write there without the
  // sandbox, so nothing but the sandbox stops it.
  std::vector<std::string> targets = {"/etc/" + name, "/var/tmp/" + name, "/dev/shm/" + name, "/tmp/" + name};
  std::string script;
  for (const auto& t : targets) script += "echo pwned > " + t + " 2>/dev/null && echo wrote " + t + "; ";
  RunResult r = user.swebox_exec({"--", "sh", "-c", script});
  const auto& j = result_json(r);
  // /tmp and /dev/shm are the sandbox's own tmpfs (and /var/tmp leads to its /tmp): writable
  // inside, gone with it.
  CHECK(j.value("stdout", "") ==
        "wrote /var/tmp/" + name + "\nwrote /dev/shm/" + name + "\nwrote /tmp/" + name + "\n");
  for (const auto& t : targets) {
    CAPTURE(t);
    struct stat st;
    bool on_host = lstat(t.c_str(), &st) == 0;
    if (on_host) unlink(t.c_str());
    CHECK_FALSE(on_host);
  }
  user.expect_nothing_left();
}

TEST_CASE("unprivileged user: neither --net none nor --net loopback reaches a TCP listener on the host's 127.0.0.1") {
  SKIP_UNLESS_UNPRIVILEGED_POSSIBLE();
  UnprivilegedUser user;
  HostListener listener;
  std::string connect = "exec 3<>/dev/tcp/127.0.0.1/" + std::to_string(listener.port());
  // Control: the same user outside the sandbox reaches it, so a failure inside is the sandbox's doing.
  RunResult host = user.run({"/bin/bash", "-c", connect + " && echo connected"});
  REQUIRE_MESSAGE(host.out == "connected\n", "the listener is not reachable by uid ", user.uid(),
                  " on the host: ", host.err);
  REQUIRE(listener.drain() == 1);

  for (const char* net : {"none", "loopback"}) {
    CAPTURE(net);
    RunResult r = user.swebox_exec({"--net", net, "--", "bash", "-c", connect + " && echo connected"});
    const auto& j = result_json(r);
    CHECK(j.value("stdout", "") == "");
    CHECK(j.value("exit_code", 0) != 0);
    CHECK(j.value("reason", "") == "exited");
    CHECK(listener.drain() == 0);
  }
  user.expect_nothing_left();
}

TEST_CASE("unprivileged user: timeout kills a setsid daemon before it writes its marker") {
  SKIP_UNLESS_UNPRIVILEGED_POSSIBLE();
  UnprivilegedUser user;
  std::string ws = user.make_owned_dir("workspace");
  std::string state = user.make_owned_dir("state");
  // The daemon leaves the command's session and process group, marks that it started, and would
  // write its marker 2 s later, after the 1 s timeout.
  auto start = Clock::now();
  RunResult r = user.swebox_exec(
      {"--timeout", "1", "--workspace", ws, "--state-dir", state, "--", "bash", "-c",
       "setsid sh -c 'echo started > /testbed/started; sleep 2; echo late > /testbed/marker' "
       "</dev/null >/dev/null 2>&1 & sleep 30"});
  double took = std::chrono::duration<double>(Clock::now() - start).count();
  const auto& j = result_json(r);
  CHECK(j.value("reason", "") == "timeout");
  CHECK(j.value("signal", 0) == 9);
  CHECK(r.status == 137);
  CHECK(took < 10);
  std::string upper = state + "/upper";
  CHECK_MESSAGE(fs::exists(upper + "/started"), "the daemon never started, so the test proves nothing");
  std::this_thread::sleep_for(std::chrono::milliseconds(2500));  // past the daemon's 2 s
  CHECK_FALSE_MESSAGE(fs::exists(upper + "/marker"), "the setsid daemon survived the timeout");
  user.expect_nothing_left();
}

TEST_CASE("unprivileged user: the memory limit holds, through a cgroup or an rlimit a note names") {
  SKIP_UNLESS_UNPRIVILEGED_POSSIBLE();
  UnprivilegedUser user;
  // Allocates up to 1 GiB in 16 MiB pieces against a 64 MiB limit.
  RunResult r = python3_in_sandbox(user, {"--memory", "64M"},
                                   "import sys\nx = []\ntry:\n    while len(x) < 64: x.append(bytearray(16 << 20))\n"
                                   "except MemoryError:\n    print('MemoryError', len(x)); sys.exit(3)\n"
                                   "print('allocated', len(x))\n");
  const auto& j = result_json(r);
  std::string out = j.value("stdout", "");
  CHECK(out.find("allocated 64") == std::string::npos);  // 1 GiB was never reached
  if (j.value("reason", "") == "memory") {
    MESSAGE("a memory cgroup enforced the limit for the unprivileged user (delegated cgroup)");
  } else {
    // No memory cgroup: swebox must say so, and RLIMIT_DATA (twice the limit) stops the allocation.
    std::string n = notes(r);
    CHECK_MESSAGE(n.find("memory") != std::string::npos, "no note says the memory cgroup is missing: ", r.err);
    CHECK_MESSAGE(n.find("rlimit") != std::string::npos, "no note says rlimits apply: ", r.err);
    REQUIRE_MESSAGE(out.rfind("MemoryError ", 0) == 0, "the allocation did not fail: ", out);
    int pieces = std::atoi(out.c_str() + std::strlen("MemoryError "));
    CHECK_MESSAGE(pieces * 16 <= 2 * 64, pieces * 16, " MiB allocated against a 64 MiB limit");
    CHECK(j.value("exit_code", -1) == 3);
  }
  user.expect_nothing_left();
}

TEST_CASE("unprivileged user: the pids limit holds (RLIMIT_NPROC where no pids cgroup is delegated)") {
  SKIP_UNLESS_UNPRIVILEGED_POSSIBLE();
  UnprivilegedUser user;
  // Forks up to 40 sleeping children against a limit of 16, then ends them.
  RunResult r = python3_in_sandbox(
      user, {"--pids", "16"},
      "import os, signal, time\nkids = []\nfor i in range(40):\n    try:\n        pid = os.fork()\n"
      "    except OSError:\n        break\n    if pid == 0:\n        time.sleep(5); os._exit(0)\n    kids.append(pid)\n"
      "print('forked', len(kids))\nfor k in kids: os.kill(k, signal.SIGKILL)\nfor k in kids: os.waitpid(k, 0)\n");
  std::string out = result_json(r).value("stdout", "");
  REQUIRE_MESSAGE(out.rfind("forked ", 0) == 0, "the fork test did not report: ", out);
  int forked = std::atoi(out.c_str() + std::strlen("forked "));
  // The shell and python count too: fewer than 16 children.
  CHECK_MESSAGE(forked < 16, forked, " children forked against --pids 16: ", r.err);
  if (notes(r).find("pids") != std::string::npos)
    CHECK_MESSAGE(notes(r).find("RLIMIT_NPROC") != std::string::npos, "the note does not say what stands in: ", r.err);
  user.expect_nothing_left();
}
