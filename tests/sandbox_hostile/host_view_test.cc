// What of the host a sandbox sees (an allowlist of the system, a filtered /etc, nothing of the
// host's working dirs), what it shows of the process that made it (no host argv or environment),
// and whose it is on the host (a uid of its own, which owns its user namespace and its quotas).
#include <fcntl.h>
#include <linux/nsfs.h>
#include <sys/inotify.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <set>
#include <sstream>

#include "tests/sandbox_hostile/hostile_support.h"

using namespace swebox::sandbox;
using namespace swebox::sandbox::hostile;

namespace {

// A host dir with a secret file, made at a real host location (removed afterwards).
struct PlantedDir {
  std::string dir, file, secret;
  explicit PlantedDir(const std::string& parent) : secret(random_token()) {
    dir = parent + "/" + random_token();
    std::filesystem::create_directories(dir);
    file = dir + "/secret.txt";
    write_host_file(file, secret);
    chmod(dir.c_str(), 0755);
    chmod(file.c_str(), 0644);  // world-readable: only the view can keep it out
  }
  ~PlantedDir() {
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
};

// The host uid of the sandbox's processes: a command sleeping with `token` in its argv, found
// from the host.
uid_t host_uid_of(Attack& a, const std::string& token) {
  a.run("(exec -a " + token + " sleep 30 &) ; true", 5);
  for (int i = 0; i < 50; ++i) {
    auto pids = host_pids_with(token);
    if (!pids.empty()) {
      struct stat st;
      if (stat(("/proc/" + std::to_string(pids[0])).c_str(), &st) == 0) {
        std::string status = read_host_file("/proc/" + std::to_string(pids[0]) + "/status");
        size_t at = status.find("\nUid:");
        if (at != std::string::npos) return static_cast<uid_t>(std::stoul(status.substr(at + 5)));
      }
    }
    usleep(20000);
  }
  FAIL("the sandbox's sleeper was not found on the host");
  return 0;
}

pid_t host_pid_of(const std::string& token) {
  for (int i = 0; i < 50; ++i) {
    auto pids = host_pids_with(token);
    if (!pids.empty()) return pids[0];
    usleep(20000);
  }
  return -1;
}

}  // namespace

TEST_CASE("the root shows only the system allowlist, the workspace and fresh kernel dirs") {
  Attack a;
  ExecResult r = a.run("ls -A /", 10);
  std::set<std::string> seen;
  std::istringstream lines(r.out);
  for (std::string l; std::getline(lines, l);) seen.insert(l);
  for (const auto& name : seen) {
    bool allowed = name == "usr" || name == "bin" || name == "sbin" || name.rfind("lib", 0) == 0 || name == "etc" ||
                   name == "proc" || name == "sys" || name == "dev" || name == "tmp" || name == "run" ||
                   name == "var" || name == "testbed" || name == ".swebox-layers";
    CHECK_MESSAGE(allowed, "/", name, " is visible in the sandbox");
  }
  CHECK(seen.count("usr"));
  CHECK(seen.count("testbed"));
  // /var holds only tmp (-> /tmp); /sys is empty.
  CHECK(a.run("ls -A /var; ls -A /sys | wc -l", 10).out == "tmp\n0\n");
  a.expect_host_intact_and_serving();
}

TEST_CASE("host dirs outside the allowlist are not visible: /opt, /var, /srv, /root, a working dir") {
  std::vector<std::unique_ptr<PlantedDir>> planted;
  for (const char* parent : {"/opt", "/var/lib", "/srv", "/root", "/work"})
    planted.push_back(std::make_unique<PlantedDir>(parent));
  Attack a;
  std::string cmd;
  for (const auto& p : planted) cmd += "cat " + p->file + " 2>&1; ls " + p->dir + " 2>&1; ";
  cmd += "grep -rs " + shell_split(planted[0]->secret.substr(0, 20)) + " /opt /var /srv /root /work 2>/dev/null; true";
  ExecResult r = a.run(cmd, 20);
  for (const auto& p : planted) CHECK_MESSAGE(r.out.find(p->secret) == std::string::npos, p->file, " leaked");
  CHECK(r.out.find("No such file or directory") != std::string::npos);
  a.expect_host_intact_and_serving();
}

TEST_CASE("a system path named in the config is shown read-only, and only it") {
  PlantedDir shown("/opt"), hidden("/opt");
  Attack a([&](Config& c) { c.system_paths = {shown.dir}; });
  ExecResult r = a.run("cat " + shown.file + "; cat " + hidden.file + " 2>&1; echo x > " + shown.dir +
                           "/new 2>&1; ls /opt",
                       10);
  CHECK(r.out.find(shown.secret) != std::string::npos);
  CHECK(r.out.find(hidden.secret) == std::string::npos);
  CHECK(r.out.find("Read-only file system") != std::string::npos);
  CHECK_FALSE(host_path_exists(shown.dir + "/new"));
  a.expect_host_intact_and_serving();
}

TEST_CASE("/etc holds no secret and no host identity") {
  Attack a;
  ExecResult r = a.run(
      "for f in shadow gshadow sudoers sudoers.d ssh ssl/private machine-id subuid subgid docker containerd "
      "environment security pam.d; do test -e /etc/$f && echo present: $f; done; cat /etc/hostname; "
      "cut -d: -f1 /etc/passwd | sort | tr '\\n' ' '; echo; id -un; ls /etc/ssl/certs | head -1 | wc -l; "
      "test -r /etc/ld.so.cache && echo loader-cache",
      10);
  CHECK(r.out.find("present:") == std::string::npos);
  CHECK(r.out.find("swebox\n") != std::string::npos);  // the sandbox's hostname and user
  CHECK(r.out.find("nobody root swebox \n") != std::string::npos);
  CHECK(r.out.find("loader-cache") != std::string::npos);
  // Host users other than root and nobody are unknown inside.
  std::istringstream pw(read_host_file("/etc/passwd"));
  for (std::string line; std::getline(pw, line);) {
    std::string user = line.substr(0, line.find(':'));
    if (user == "root" || user == "nobody" || user.empty()) continue;
    CHECK_MESSAGE(r.out.find(" " + user + " ") == std::string::npos, "host user ", user, " is listed");
  }
  a.expect_host_intact_and_serving();
}

TEST_CASE("init and keepers show a neutral argv and no environment") {
  Attack a;
  ExecResult r = a.run("for p in /proc/[0-9]*; do tr '\\0' ' ' < $p/cmdline; echo; done; "
                       "cat /proc/1/environ | tr '\\0' '\\n' | grep -c = ; true",
                       10);
  CHECK(r.out.find("test_sandbox_hostile") == std::string::npos);
  CHECK(r.out.find("swebox-sandbox") != std::string::npos);
  // The last line: how many NAME=value entries init's environment holds.
  std::string last = r.out.substr(r.out.rfind('\n', r.out.size() - 2) + 1);
  CHECK(last == "0\n");
  a.expect_host_intact_and_serving();
}

TEST_CASE("each live sandbox has a host uid of its own, which owns its user namespace") {
  if (geteuid() != 0) {
    MESSAGE("not root: sandboxes map the caller's own uid");
    return;
  }
  Attack a, b;
  std::string ta = random_token(), tb = random_token();
  uid_t ua = host_uid_of(a, ta), ub = host_uid_of(b, tb);
  CHECK(ua != 0);
  CHECK(ub != 0);
  CHECK(ua != ub);
  CHECK(ua != 100000);
  // The user namespace's owner is that uid, not root.
  pid_t pa = host_pid_of(ta);
  REQUIRE(pa > 0);
  int ns = open(("/proc/" + std::to_string(pa) + "/ns/user").c_str(), O_RDONLY | O_CLOEXEC);
  REQUIRE(ns >= 0);
  uid_t owner = 12345;
  CHECK(ioctl(ns, NS_GET_OWNER_UID, &owner) == 0);
  close(ns);
  CHECK(owner == ua);
  a.expect_host_intact_and_serving();
  b.expect_host_intact_and_serving();
}

TEST_CASE("a root-owned workspace lower stays root's and read-only, yet the agent edits its files") {
  Attack a;
  std::string lower = a.layer / "code.py";
  write_host_file(lower, "x = 1\n");
  // (The attack program's dir is the lower: made by this test, as root when we are root.)
  ExecResult r = a.run("stat -c '%U %a' /testbed/code.py; echo 'x = 2' > /testbed/code.py && cat /testbed/code.py", 10);
  CHECK(r.out.find("swebox 644") != std::string::npos);
  CHECK(r.out.find("x = 2") != std::string::npos);
  CHECK(read_host_file(lower) == "x = 1\n");
  struct stat st;
  REQUIRE(stat(lower.c_str(), &st) == 0);
  CHECK(st.st_uid == workspace_lower_owner().uid);
  a.expect_host_intact_and_serving();
}

TEST_CASE("a sandbox that takes every inotify instance leaves host root its own") {
  Attack a;
  // Hold as many inotify instances as the per-user limit allows, in the background.
  std::string holder =
      "python3 -c 'import ctypes,time\n"
      "libc=ctypes.CDLL(None)\n"
      "n=0\n"
      "while libc.inotify_init()>=0: n+=1\n"
      "print(\"held\",n,flush=True)\n"
      "time.sleep(30)' > /tmp/held 2>&1 &\n"
      "for i in $(seq 100); do grep -q held /tmp/held 2>/dev/null && break; sleep 0.05; done; cat /tmp/held";
  ExecResult r = a.run(holder, 15);
  CHECK(r.out.find("held") != std::string::npos);
  // Host root can still make inotify instances.
  int fd = inotify_init1(IN_CLOEXEC);
  CHECK_MESSAGE(fd >= 0, "host inotify_init failed: ", strerror(errno));
  if (fd >= 0) close(fd);
  a.expect_host_intact_and_serving();
}

TEST_CASE("a host unix socket in a host dir is not reachable") {
  PlantedDir d("/opt");
  std::string path = d.dir + "/sock";
  HostSocket s = HostSocket::unix_path(path);
  chmod(path.c_str(), 0777);
  Attack a;
  ExecResult r = a.run("/testbed/attack unix_path " + path + " 2>&1", 10);
  CHECK_FALSE(s.pending());
  a.expect_host_intact_and_serving();
}

TEST_CASE("a kept upper comes back without setuid or setgid bits, in a 0700 dir") {
  TempDir keep;
  std::string state = keep / "state";
  {
    Attack a([&](Config& c) { c.state_dir = state; });
    ExecResult r = a.run("cp /bin/true /testbed/suid && chmod 6755 /testbed/suid && mkdir /testbed/d && "
                         "cp /bin/true /testbed/d/sgid && chmod 2755 /testbed/d/sgid && stat -c %a /testbed/suid",
                         10);
    CHECK(r.out.find("6755") != std::string::npos);
    a.box->sb->destroy();
  }
  struct stat st;
  REQUIRE(stat((state + "/upper/suid").c_str(), &st) == 0);
  CHECK((st.st_mode & (S_ISUID | S_ISGID)) == 0);
  REQUIRE(stat((state + "/upper/d/sgid").c_str(), &st) == 0);
  CHECK((st.st_mode & (S_ISUID | S_ISGID)) == 0);
  REQUIRE(stat(state.c_str(), &st) == 0);
  CHECK((st.st_mode & 07777) == 0700);
}

TEST_CASE("filling the workspace under a small memory limit ends with ENOSPC, not the host's disk") {
  if (geteuid() != 0) {
    MESSAGE("not root: no capped workspace tmpfs");
    return;
  }
  Attack a([](Config& c) {
    c.limits.memory_bytes = 128ull << 20;
    c.limits.workspace_bytes = 1ull << 30;  // capped at half the memory limit
    c.limits.file_size_bytes = 1ull << 30;  // (the file size limit must not stop it first)
  });
  ExecResult r = a.run("dd if=/dev/zero of=/testbed/fill bs=1M count=512 2>&1; stat -c 'size %s' /testbed/fill", 60);
  CHECK(r.out.find("No space left on device") != std::string::npos);
  CHECK(r.reason != StopReason::memory);
  a.expect_host_intact_and_serving();
}
