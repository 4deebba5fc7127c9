// Functional tests of the native sandbox backend through the Sandbox interface.
#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <dirent.h>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <sys/stat.h>
#include <thread>
#include <unistd.h>

#include "sandbox/sandbox.h"
#include "sandbox/seccomp_policy.h"
#include "sandbox/text_encoding.h"
#include <sys/wait.h>

namespace sb = swebox::sandbox;

namespace {

std::unique_ptr<sb::Sandbox> make(sb::Config config = {}) {
  static boost::asio::io_context io;
  return sb::make_sandbox(io, config);
}

sb::ExecResult exec(sb::Sandbox& box, std::vector<std::string> argv, double timeout = 20) {
  sb::ExecRequest req;
  req.argv = std::move(argv);
  req.timeout_s = timeout;
  return box.exec(req);
}

sb::ExecResult sh(sb::Sandbox& box, const std::string& script, double timeout = 20) {
  return exec(box, {"/bin/sh", "-c", script}, timeout);
}

// Host processes whose command line contains `needle`.
int host_processes_with(const std::string& needle) {
  int count = 0;
  DIR* d = opendir("/proc");
  while (dirent* e = readdir(d)) {
    if (e->d_name[0] < '0' || e->d_name[0] > '9') continue;
    std::ifstream f(std::string("/proc/") + e->d_name + "/cmdline");
    std::string cmd((std::istreambuf_iterator<char>(f)), {});
    for (char& c : cmd)
      if (c == 0) c = ' ';
    if (cmd.find(needle) != std::string::npos) ++count;
  }
  closedir(d);
  return count;
}

std::vector<std::string> list_host_dir(const std::string& dir) {
  std::vector<std::string> out;
  DIR* d = opendir(dir.c_str());
  if (!d) return out;
  while (dirent* e = readdir(d)) {
    std::string n = e->d_name;
    if (n != "." && n != "..") out.push_back(n);
  }
  closedir(d);
  std::sort(out.begin(), out.end());
  return out;
}

bool memory_cgroup_available() {
  for (const auto& n : sb::native_sandbox_notes())
    if (n.find("memory") != std::string::npos) return false;
  return true;
}

}  // namespace

TEST_CASE("exec reports the exit code and keeps stdout and stderr apart") {
  auto box = make();
  auto r = sh(*box, "echo out; echo err >&2; exit 3");
  CHECK(r.reason == sb::StopReason::exited);
  CHECK(r.exit_code == 3);
  CHECK(r.status() == 3);
  CHECK(r.out == "out\n");
  CHECK(r.err == "err\n");
  CHECK(r.wall_s > 0);
}

TEST_CASE("exec merges stderr into stdout when asked") {
  auto box = make();
  sb::ExecRequest req;
  req.argv = {"/bin/sh", "-c", "echo a; echo b >&2; echo c"};
  req.merge_stderr = true;
  auto r = box->exec(req);
  CHECK(r.out == "a\nb\nc\n");
  CHECK(r.err.empty());
}

TEST_CASE("exec feeds stdin and runs in the requested cwd") {
  auto box = make();
  sb::ExecRequest req;
  req.argv = {"/bin/sh", "-c", "pwd; cat"};
  req.cwd = "/tmp";
  req.stdin_data = "hello from stdin";
  auto r = box->exec(req);
  CHECK(r.out == "/tmp\nhello from stdin");
}

TEST_CASE("a command killed by a signal reports 128+signal") {
  auto box = make();
  auto r = sh(*box, "kill -TERM $$");
  CHECK(r.reason == sb::StopReason::signaled);
  CHECK(r.signal == 15);
  CHECK(r.status() == 143);
}

TEST_CASE("a missing program exits 127 with a message") {
  auto box = make();
  auto r = exec(*box, {"no-such-program-swebox"});
  CHECK(r.exit_code == 127);
  CHECK(r.err.find("no-such-program-swebox") != std::string::npos);
}

TEST_CASE("the command runs as uid 1000 with no capabilities") {
  auto box = make();
  auto r = sh(*box, "id -u; id -g; grep -E '^Cap(Eff|Prm|Bnd)' /proc/self/status; grep NoNewPrivs /proc/self/status");
  CHECK(r.out.find("1000\n1000\n") == 0);
  CHECK(r.out.find("CapEff:\t0000000000000000") != std::string::npos);
  CHECK(r.out.find("CapBnd:\t0000000000000000") != std::string::npos);
  CHECK(r.out.find("NoNewPrivs:\t1") != std::string::npos);
}

TEST_CASE("session keeps cwd, environment and shell functions between commands") {
  auto box = make();
  auto a = box->run("cd /tmp && export SWEBOX_X=42 && greet() { echo hello $1; }", 10);
  CHECK(a.exit_code == 0);
  auto b = box->run("pwd; echo $SWEBOX_X; greet you", 10);
  CHECK(b.out == "/tmp\n42\nhello you\n");
  CHECK_FALSE(b.session_restarted);
  auto c = box->run("false", 10);
  CHECK(c.exit_code == 1);
  auto d = box->run("echo to-stderr >&2", 10);
  CHECK(d.out == "to-stderr\n");  // the session merges stderr into out
}

TEST_CASE("session survives a syntax error") {
  auto box = make();
  auto a = box->run("echo \"unterminated", 10);
  CHECK(a.exit_code != 0);
  auto b = box->run("echo still here", 10);
  CHECK(b.out == "still here\n");
  CHECK_FALSE(b.session_restarted);
}

TEST_CASE("session timeout kills the command and starts a fresh session") {
  auto box = make();
  box->run("cd /tmp; export KEEP=1", 10);
  auto t0 = std::chrono::steady_clock::now();
  auto r = box->run("sleep 30", 0.5);
  double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  CHECK(took < 10);
  CHECK(r.reason == sb::StopReason::timeout);
  CHECK(r.session_restarted);
  CHECK(r.status() == 137);
  CHECK(r.detail.find("timeout") != std::string::npos);
  auto after = box->run("pwd; echo \"[$KEEP]\"", 10);
  CHECK(after.out == "/testbed\n[]\n");
}

TEST_CASE("exit in the session ends it with that status and a fresh one follows") {
  auto box = make();
  auto r = box->run("exit 7", 10);
  CHECK(r.exit_code == 7);
  CHECK(r.session_restarted);
  CHECK(box->run("echo ok", 10).out == "ok\n");
}

TEST_CASE("timeout kills a setsid daemon") {
  auto box = make();
  auto r = sh(*box, "setsid sh -c 'exec sleep 1234.25' </dev/null >/dev/null 2>&1 & sleep 60", 0.5);
  CHECK(r.reason == sb::StopReason::timeout);
  CHECK(r.status() == 137);
  // Give the kernel a moment to finish tearing the namespace down.
  for (int i = 0; i < 100 && host_processes_with("sleep 1234.25"); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  CHECK(host_processes_with("sleep 1234.25") == 0);
}

TEST_CASE("output beyond the cap is truncated with a marker") {
  sb::Config c;
  c.limits.output_bytes = 1000;
  auto box = make(c);
  auto r = sh(*box, "head -c 5000 /dev/zero | tr '\\0' a; echo; echo small >&2");
  CHECK(r.out_truncated);
  CHECK_FALSE(r.err_truncated);
  CHECK(r.out.rfind(std::string(1000, 'a'), 0) == 0);
  CHECK(r.out.find("[swebox: output truncated after 1000 bytes]") != std::string::npos);
  CHECK(r.err == "small\n");
  CHECK(r.exit_code == 0);
  auto s = box->run("head -c 5000 /dev/zero | tr '\\0' b", 10);
  CHECK(s.out_truncated);
  CHECK(s.out.find("[swebox: output truncated after 1000 bytes]") != std::string::npos);
}

TEST_CASE("endless output stops the command with output_limit") {
  sb::Config c;
  c.limits.output_bytes = 4096;
  auto box = make(c);
  auto r = exec(*box, {"yes"}, 60);
  CHECK(r.reason == sb::StopReason::output_limit);
  CHECK(r.out_truncated);
  CHECK(r.out.size() < 8192);
  CHECK(r.wall_s < 30);
}

TEST_CASE("file API writes, reads, lists and checks paths relative to the workspace") {
  auto box = make();
  CHECK_FALSE(box->write_file("a.txt", "alpha\n").has_value());
  CHECK_FALSE(box->write_file("/testbed/b.txt", "beta").has_value());
  auto a = box->read_file("/testbed/a.txt");
  REQUIRE(std::holds_alternative<std::string>(a));
  CHECK(std::get<std::string>(a) == "alpha\n");
  CHECK(box->exists("b.txt"));
  CHECK_FALSE(box->exists("c.txt"));
  auto list = box->list_dir(".");
  REQUIRE(std::holds_alternative<std::vector<sb::DirEntry>>(list));
  auto& entries = std::get<std::vector<sb::DirEntry>>(list);
  REQUIRE(entries.size() == 2);
  CHECK(entries[0].name == "a.txt");
  CHECK(entries[0].type == 'f');
  CHECK(entries[0].size == 6);
  // The shell sees the same files, owned by the sandbox user.
  auto r = box->run("cat b.txt; stat -c %u a.txt", 10);
  CHECK(r.out == "beta1000\n");
}

TEST_CASE("file API errors name the path") {
  auto box = make();
  auto missing = box->read_file("nope/missing.py");
  REQUIRE(std::holds_alternative<sb::FileError>(missing));
  CHECK(std::get<sb::FileError>(missing).message.find("nope/missing.py") != std::string::npos);
  auto no_parent = box->write_file("no/such/dir/x.py", "x");
  REQUIRE(no_parent.has_value());
  CHECK(no_parent->message.find("no/such/dir/x.py") != std::string::npos);
  CHECK_FALSE(box->write_file("once.txt", "1", true).has_value());
  auto again = box->write_file("once.txt", "2", true);
  REQUIRE(again.has_value());
  CHECK(std::get<std::string>(box->read_file("once.txt")) == "1");
  auto dir = box->read_file("/testbed");
  CHECK(std::holds_alternative<sb::FileError>(dir));
}

TEST_CASE("file API stays inside the sandbox whatever symlinks were planted") {
  auto box = make();
  std::string marker = "swebox-escape-" + std::to_string(getpid());
  // A link to the root and a link climbing out with "..": both resolve inside the sandbox.
  auto r = box->run("ln -s / rootlink; ln -s ../../../../../../tmp uplink", 10);
  CHECK(r.exit_code == 0);
  CHECK_FALSE(box->write_file("rootlink/tmp/" + marker, "x").has_value());
  CHECK_FALSE(box->write_file("uplink/" + marker + "-2", "x").has_value());
  struct stat st;
  CHECK(stat(("/tmp/" + marker).c_str(), &st) != 0);
  CHECK(stat(("/tmp/" + marker + "-2").c_str(), &st) != 0);
  CHECK(box->run("ls /tmp/" + marker + " /tmp/" + marker + "-2", 10).exit_code == 0);
  // Host-root-only files stay unreadable through the file API too.
  CHECK(std::holds_alternative<sb::FileError>(box->read_file("/etc/shadow")));
}

TEST_CASE("upper_dir holds exactly the changes and reset drops them") {
  auto lower = std::string("/tmp/swebox-test-lower-") + std::to_string(getpid());
  mkdir(lower.c_str(), 0755);
  std::ofstream(lower + "/orig.txt") << "original\n";
  sb::Config c;
  c.workspace_lowers = {lower};
  auto box = make(c);
  CHECK(box->run("cat orig.txt", 10).out == "original\n");
  CHECK(list_host_dir(box->upper_dir()).empty());
  box->run("echo new > new.txt; cd /tmp; export AFTER=1", 10);
  CHECK(list_host_dir(box->upper_dir()) == std::vector<std::string>{"new.txt"});
  box->reset();
  CHECK(list_host_dir(box->upper_dir()).empty());
  auto r = box->run("pwd; ls; echo \"[$AFTER]\"", 10);
  CHECK(r.out == "/testbed\norig.txt\n[]\n");
  box->destroy();
  std::remove((lower + "/orig.txt").c_str());
  rmdir(lower.c_str());
}

TEST_CASE("stop_processes ends every process of the sandbox and keeps its changes readable until destroy") {
  auto box = make();
  // A detached job that keeps writing, as an agent's background job would after its last turn.
  auto r = box->run("nohup setsid bash -c 'i=0; while :; do i=$((i+1)); echo $i >> counter; done' >/dev/null 2>&1 & "
                    "sleep 0.3; echo started",
                    10);
  REQUIRE(r.out == "started\n");
  std::string upper = box->upper_dir();
  REQUIRE_FALSE(upper.empty());
  auto read = [&] {
    std::ifstream f(upper + "/counter");
    return std::string((std::istreambuf_iterator<char>(f)), {});
  };
  auto t0 = std::chrono::steady_clock::now();
  box->stop_processes();
  CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::seconds(5));
  std::string first = read();
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  CHECK_FALSE(first.empty());
  CHECK(read() == first);  // nothing writes any more
  CHECK(box->run("true", 5).reason == sb::StopReason::error);  // the sandbox runs nothing now
  box->stop_processes();  // idempotent
  box->destroy();
}

TEST_CASE("merged_view shows the workspace as the sandbox sees it") {
  auto box = make();
  box->run("mkdir -p pkg && echo 'print(1)' > pkg/mod.py", 10);
  std::string merged = box->merged_view();
  REQUIRE_FALSE(merged.empty());
  std::ifstream f(merged + "/pkg/mod.py");
  std::string text((std::istreambuf_iterator<char>(f)), {});
  CHECK(text == "print(1)\n");
}

TEST_CASE("network none has no usable interface and loopback has lo up") {
  auto none = make();
  // lo's flags (SIOCGIFFLAGS; /sys is empty in a sandbox).
  auto lo_state = exec(*none, {"python3", "-c",
                               "import fcntl,socket,struct\n"
                               "s=socket.socket()\n"
                               "f=struct.unpack('H',fcntl.ioctl(s,0x8913,struct.pack('256s',b'lo'))[16:18])[0]\n"
                               "print('up' if f & 1 else 'down')"});
  CHECK(lo_state.out == "down\n");
  sb::Config c;
  c.network = sb::Network::loopback;
  auto lo = make(c);
  auto r = exec(*lo, {"python3", "-c",
                      "import socket\n"
                      "s=socket.socket(); s.bind(('127.0.0.1',0)); s.listen()\n"
                      "c=socket.create_connection(s.getsockname()); print('connected')"});
  CHECK(r.out == "connected\n");
  auto n = exec(*none, {"python3", "-c",
                        "import socket\n"
                        "s=socket.socket()\n"
                        "try:\n  s.bind(('127.0.0.1',0)); s.listen(); socket.create_connection(s.getsockname()); print('connected')\n"
                        "except OSError as e: print('refused', e.errno)"});
  CHECK(n.out.find("refused") == 0);
}

TEST_CASE("memory limit kills with reason memory") {
  sb::Config c;
  c.limits.memory_bytes = 64ull << 20;
  auto box = make(c);
  if (!memory_cgroup_available()) {
    MESSAGE("skipped: no memory cgroup on this host");
    return;
  }
  auto r = exec(*box, {"python3", "-c", "x = b'a' * (512 << 20)"}, 60);
  CHECK(r.reason == sb::StopReason::memory);
  CHECK(r.status() == 137);
  CHECK(r.detail.find("memory") != std::string::npos);
}

TEST_CASE("seccomp denies namespace and mount calls with EPERM") {
  auto box = make();
  auto r = exec(*box, {"python3", "-c",
                       "import ctypes, os\n"
                       "libc = ctypes.CDLL(None, use_errno=True)\n"
                       "print(libc.unshare(0x10000000), ctypes.get_errno())\n"  // CLONE_NEWUSER
                       "print(libc.mount(b'none', b'/tmp', b'tmpfs', 0, None), ctypes.get_errno())\n"});
  CHECK(r.out == "-1 1\n-1 1\n");
}

TEST_CASE("async_run and async_exec complete on the io_context") {
  boost::asio::io_context io;
  auto box = sb::make_sandbox(io, {});
  std::atomic<int> done{0};
  std::string a, b;
  box->async_run("echo session", 10, [&](sb::ExecResult r) {
    a = r.out;
    ++done;
  });
  sb::ExecRequest req;
  req.argv = {"echo", "exec"};
  box->async_exec(req, [&](sb::ExecResult r) {
    b = r.out;
    ++done;
  });
  io.run();
  CHECK(done == 2);
  CHECK(a == "session\n");
  CHECK(b == "exec\n");
}

TEST_CASE("destroy is idempotent and leaves no temp dir behind") {
  auto box = make();
  std::string upper = box->upper_dir();
  std::string state = upper.substr(0, upper.rfind('/'));
  struct stat st;
  CHECK(stat(state.c_str(), &st) == 0);
  box->destroy();
  box->destroy();
  // The temp state dir goes once the kernel has emptied the sandbox's pid namespace.
  for (int i = 0; i < 500 && stat(state.c_str(), &st) == 0; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  CHECK(stat(state.c_str(), &st) != 0);
  auto r = box->run("true", 5);
  CHECK(r.reason == sb::StopReason::error);
}

TEST_CASE("many create and destroy cycles leak no fds") {
  auto count_fds = [] { return list_host_dir("/proc/self/fd").size(); };
  { auto warm = make(); }
  size_t before = count_fds();
  for (int i = 0; i < 20; ++i) {
    auto box = make();
    CHECK(exec(*box, {"true"}).exit_code == 0);
  }
  CHECK(count_fds() == before);
}

namespace {
// Runs the swebox binary; returns its exit status and stdout.
int run_cli(const std::string& args, std::string* out) {
  std::string cmd = std::string(SWEBOX_BINARY) + " " + args + " 2>/dev/null";
  FILE* p = popen(cmd.c_str(), "r");
  char buf[4096];
  size_t n;
  out->clear();
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out->append(buf, n);
  int st = pclose(p);
  return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}
}  // namespace

TEST_CASE("CLI sandbox exec --json prints one result object and exits with the command's status") {
  std::string out;
  int rc = run_cli("sandbox exec --json -- sh -c 'echo hi; printf \"\\377\" >&2; exit 3'", &out);
  CHECK(rc == 3);
  CHECK(out.find("\"exit_code\":3") != std::string::npos);
  CHECK(out.find("\"stdout\":\"hi\\n\"") != std::string::npos);
  CHECK(out.find("\"encoding\":\"utf-8-replaced\"") != std::string::npos);
  CHECK(out.find("\"reason\":\"exited\"") != std::string::npos);
  CHECK(out.find("\"stdout_truncated\":false") != std::string::npos);
  rc = run_cli("sandbox exec --timeout 0.5 -- sleep 30", &out);
  CHECK(rc == 137);
  rc = run_cli("sandbox exec --net bogus -- true", &out);
  CHECK(rc == 2);
  rc = run_cli("sandbox exec --", &out);
  CHECK(rc == 2);
  rc = run_cli("sandbox --help", &out);
  CHECK(rc == 0);
  CHECK(out.find("--json") != std::string::npos);
}

TEST_CASE("CLI --workspace shows a host dir at /testbed without changing it") {
  std::string dir = "/tmp/swebox-test-ws-" + std::to_string(getpid());
  mkdir(dir.c_str(), 0755);
  std::ofstream(dir + "/keep.txt") << "kept\n";
  // Owned as a workspace lower should be (root, when we are root), the file is editable inside
  // (an idmapped mount shows it as the sandbox user's; overlay copy-up).
  sb::HostIdentity id = sb::workspace_lower_owner();
  REQUIRE(chown((dir + "/keep.txt").c_str(), id.uid, id.gid) == 0);
  std::string out;
  int rc = run_cli("sandbox exec --workspace " + dir + " -- sh -c 'cat keep.txt; echo changed > keep.txt; cat keep.txt'",
                   &out);
  CHECK(rc == 0);
  CHECK(out == "kept\nchanged\n");
  std::ifstream f(dir + "/keep.txt");
  std::string text((std::istreambuf_iterator<char>(f)), {});
  CHECK(text == "kept\n");
  std::remove((dir + "/keep.txt").c_str());
  rmdir(dir.c_str());
}

TEST_CASE("CLI without --workspace: /testbed is an empty tmpfs of the sandbox user, capped at half the memory limit") {
  std::string out;
  int rc = run_cli("sandbox exec --memory 64M -- sh -c 'ls -A /testbed; stat -f -c %T /testbed; stat -c %u /testbed; "
                   "echo x > /testbed/f && cat /testbed/f; head -c 40M /dev/zero > /testbed/big || echo full'",
                   &out);
  CHECK(rc == 0);
  CHECK(out == "tmpfs\n1000\nx\nfull\n");
  // With --state-dir the changes are kept (an overlay's upper layer, as with a workspace).
  std::string keep = "/tmp/swebox-test-keep-" + std::to_string(getpid());
  rc = run_cli("sandbox exec --state-dir " + keep + " -- sh -c 'echo y > /testbed/g'", &out);
  CHECK(rc == 0);
  std::ifstream g(keep + "/upper/g");
  std::string text((std::istreambuf_iterator<char>(g)), {});
  CHECK(text == "y\n");
  std::error_code ec;
  std::filesystem::remove_all(keep, ec);
}

// The CLI's sandbox is handed over while it is still being set up (its request waits in init's
// socket): a set-up that fails there must still say why, and nothing of it may stay.
TEST_CASE("CLI: a sandbox whose set-up fails says why and exits 125") {
  std::string root = "/tmp/swebox-test-badroot-" + std::to_string(getpid());
  mkdir(root.c_str(), 0755);
  std::ofstream(root + "/testbed") << "a file where the workspace goes\n";
  std::string out;
  int rc = run_cli("sandbox exec --json --rootfs " + root + " -- echo ran", &out);
  CHECK(rc == 125);
  CHECK(out.find("\"reason\":\"error\"") != std::string::npos);
  CHECK(out.find("cannot create the sandbox: sandbox setup failed: ") != std::string::npos);
  CHECK(out.find("Not a directory") != std::string::npos);
  CHECK(out.find("ran") == std::string::npos);
  rc = run_cli("sandbox exec --rootfs " + root + " -- echo ran", &out);
  CHECK(rc == 125);
  CHECK(out.empty());
  std::remove((root + "/testbed").c_str());
  rmdir(root.c_str());
  CHECK(run_cli("sandbox exec -- echo serving", &out) == 0);
  CHECK(out == "serving\n");
}

TEST_CASE("the seccomp program built in at build time is the one libseccomp compiles now") {
  namespace sp = swebox::sandbox::seccomp_policy;
  std::vector<sock_filter> built = sp::built_in(), now = sp::compile();
  REQUIRE_FALSE(built.empty());
  CHECK(built.size() == now.size());
  bool same = built.size() == now.size();
  for (size_t i = 0; same && i < built.size(); ++i)
    same = built[i].code == now[i].code && built[i].jt == now[i].jt && built[i].jf == now[i].jf && built[i].k == now[i].k;
  CHECK_MESSAGE(same, "rebuild: libseccomp or the policy changed since seccomp_program.inc was made");
  CHECK(&sp::program() == &sp::program());
  CHECK(sp::program().size() == built.size());
}

TEST_CASE("invalid bytes become U+FFFD and valid UTF-8 passes through") {
  bool replaced = true;
  CHECK(sb::to_valid_utf8("plain \xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", &replaced) ==
        "plain \xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80");
  CHECK_FALSE(replaced);
  CHECK(sb::to_valid_utf8("a\xff" "b", &replaced) == "a\xef\xbf\xbd" "b");
  CHECK(replaced);
  CHECK(sb::to_valid_utf8("\xc0\xaf") == "\xef\xbf\xbd\xef\xbf\xbd");  // overlong
  CHECK(sb::to_valid_utf8("\xed\xa0\x80") == "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");  // surrogate
  CHECK(sb::to_valid_utf8("\xe2\x82") == "\xef\xbf\xbd\xef\xbf\xbd");  // cut short
}
