// The Docker backend against the real daemon (scripts/start-dockerd.sh starts one and builds the
// image). Without a daemon every case says it skipped; with SWEBOX_REQUIRE_DOCKER=1 (set by
// scripts/test.sh when start-dockerd.sh succeeded) a missing daemon is a failure.
#include <doctest/doctest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <functional>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <thread>

#include <boost/asio/io_context.hpp>

#include "sandbox/docker_api.h"
#include "sandbox/docker_backend.h"
#include "sandbox/docker_sandbox.h"
#include "sandbox/docker_tar.h"

using namespace swebox::sandbox;
namespace fs = std::filesystem;

namespace {

// "" when the daemon and the default image are there, else why not.
std::string docker_missing() {
  static std::string why = [] {
    docker_api::Client c;
    if (!c.ping(2)) return std::string("no Docker daemon answers at /var/run/docker.sock");
    if (!c.image_exists(kDefaultDockerImage)) return std::string("the image ") + kDefaultDockerImage + " is missing";
    return std::string();
  }();
  return why;
}

#define SKIP_WITHOUT_DOCKER()                                                                          \
  if (!docker_missing().empty()) {                                                                     \
    MESSAGE("skipped: " << docker_missing() << " (start one and build the image: scripts/start-dockerd.sh)"); \
    return;                                                                                            \
  }

struct TempDir {
  fs::path path;
  TempDir() {
    char tmpl[] = "/tmp/swebox-docker-test-XXXXXX";
    path = mkdtemp(tmpl);
  }
  ~TempDir() { fs::remove_all(path); }
  void write(const std::string& rel, const std::string& text) {
    fs::create_directories((path / rel).parent_path());
    std::ofstream(path / rel) << text;
  }
};

Config small_config() {
  Config c;
  c.limits.memory_bytes = 256ull << 20;
  c.limits.pids = 128;
  c.limits.cpus = 1;
  c.limits.output_bytes = 64 << 10;
  return c;
}

ExecRequest argv(std::vector<std::string> a, double timeout_s = 30) {
  ExecRequest r;
  r.argv = std::move(a);
  r.timeout_s = timeout_s;
  return r;
}

// Pids of processes in the container whose command line contains `needle`. The pattern "[s]leep"
// matches "sleep" but not the searching processes' own command lines.
std::string processes_matching(Sandbox& sb, const std::string& needle) {
  std::string pattern = "[" + needle.substr(0, 1) + "]" + needle.substr(1);
  ExecResult r = sb.exec(argv({"/bin/sh", "-c",
                               "for f in /proc/[0-9]*/cmdline; do tr '\\0' ' ' < $f 2>/dev/null | grep -q -- \"$1\" && echo ${f%/cmdline}; done; true",
                               "sh", pattern}));
  REQUIRE(r.status() == 0);
  return r.out;
}

}  // namespace

TEST_CASE("docker daemon is available when SWEBOX_REQUIRE_DOCKER=1") {
  const char* require = std::getenv("SWEBOX_REQUIRE_DOCKER");
  if (!require || std::string(require) != "1") {
    if (!docker_missing().empty())
      MESSAGE("skipped: " << docker_missing()
                          << " and SWEBOX_REQUIRE_DOCKER is not 1 (scripts/start-dockerd.sh starts a daemon)");
    else
      CHECK(docker_available());
    return;
  }
  INFO("scripts/start-dockerd.sh succeeded, yet: " << docker_missing());
  CHECK(docker_missing().empty());
}

TEST_CASE("make_docker_sandbox names the missing image and how to get one") {
  SKIP_WITHOUT_DOCKER();
  boost::asio::io_context io;
  Config c = small_config();
  c.docker_image = "swebox-no-such-image:never";
  try {
    make_docker_sandbox(io, c);
    FAIL("a sandbox was created from a missing image");
  } catch (const SandboxError& e) {
    CHECK(std::string(e.what()).find("swebox-no-such-image:never") != std::string::npos);
    CHECK(std::string(e.what()).find("never pulled") != std::string::npos);
  }
}

TEST_CASE("exec returns the exit code with stdout and stderr apart") {
  SKIP_WITHOUT_DOCKER();
  boost::asio::io_context io;
  auto sb = make_docker_sandbox(io, small_config());
  ExecResult r = sb->exec(argv({"/bin/sh", "-c", "echo out; echo err >&2; pwd; id -u; exit 7"}));
  CHECK(r.reason == StopReason::exited);
  CHECK(r.exit_code == 7);
  CHECK(r.out == "out\n/testbed\n1000\n");
  CHECK(r.err == "err\n");

  ExecRequest merged = argv({"/bin/sh", "-c", "echo 1; echo 2 >&2; echo 3; echo 4 >&2"});
  merged.merge_stderr = true;
  r = sb->exec(merged);
  CHECK(r.out == "1\n2\n3\n4\n");
  CHECK(r.err.empty());

  ExecRequest with_stdin = argv({"wc", "-c"});
  with_stdin.stdin_data = std::string(200000, 'x');
  r = sb->exec(with_stdin);
  CHECK(r.exit_code == 0);
  CHECK(r.out.find("200000") != std::string::npos);

  r = sb->exec(argv({"no-such-program"}));
  CHECK(r.status() != 0);
}

TEST_CASE("exec timeout kills a setsid daemon the command started") {
  SKIP_WITHOUT_DOCKER();
  boost::asio::io_context io;
  auto sb = make_docker_sandbox(io, small_config());
  ExecResult r = sb->exec(argv({"/bin/sh", "-c", "setsid sh -c 'sleep 4242' & echo started; sleep 4343"}, 1.5));
  CHECK(r.reason == StopReason::timeout);
  CHECK(r.signal == SIGKILL);
  CHECK(r.out == "started\n");
  CHECK(r.wall_s < 10);
  CHECK(processes_matching(*sb, "sleep 4242") == "");
  CHECK(processes_matching(*sb, "sleep 4343") == "");
}

TEST_CASE("output beyond the limit is truncated and marked") {
  SKIP_WITHOUT_DOCKER();
  boost::asio::io_context io;
  auto sb = make_docker_sandbox(io, small_config());
  ExecResult r = sb->run("head -c 1000000 /dev/zero | tr '\\0' a; echo done >&2", 30);
  CHECK(r.exit_code == 0);
  CHECK(r.out_truncated);
  CHECK_FALSE(r.err_truncated);
  CHECK(r.out.size() < (64 << 10) + 200);
  CHECK(r.out.find("truncated") != std::string::npos);
  CHECK(r.err == "done\n");
}

TEST_CASE("endless output stops the command well before its timeout") {
  SKIP_WITHOUT_DOCKER();
  boost::asio::io_context io;
  auto sb = make_docker_sandbox(io, small_config());
  ExecResult r = sb->exec(argv({"/bin/sh", "-c", "yes abcdefghijklmnopqrstuvwxyz"}, 120));
  CHECK(r.reason == StopReason::output_limit);
  CHECK(r.out_truncated);
  CHECK(r.wall_s < 60);
  CHECK(processes_matching(*sb, "yes abc") == "");
}

TEST_CASE("a command killed by the memory limit says so") {
  SKIP_WITHOUT_DOCKER();
  boost::asio::io_context io;
  Config c = small_config();
  c.limits.memory_bytes = 64ull << 20;
  auto sb = make_docker_sandbox(io, c);
  ExecResult r = sb->exec(argv({"/bin/sh", "-c", "x=$(head -c 200000000 /dev/zero | tr '\\0' a); echo survived"}, 60));
  CHECK(r.status() == 137);
  if (!docker_exec::oom_kills(dynamic_cast<DockerSandbox&>(*sb).container_id())) {
    MESSAGE("skipped the out-of-memory checks: this host's cgroup layout hides the container's OOM counter");
    return;
  }
  CHECK(r.reason == StopReason::memory);
  CHECK(r.detail.find("out-of-memory") != std::string::npos);
  r = sb->run("x=$(head -c 200000000 /dev/zero | tr '\\0' a); echo survived", 60);
  CHECK(r.reason == StopReason::memory);
  CHECK(r.session_restarted);
  CHECK(sb->run("echo alive", 10).out == "alive\n");
}

TEST_CASE("session keeps cwd, environment and functions between commands") {
  SKIP_WITHOUT_DOCKER();
  boost::asio::io_context io;
  auto sb = make_docker_sandbox(io, small_config());
  CHECK(sb->run("mkdir -p sub/dir && cd sub/dir && export GREETING=hello && f() { echo \"f:$1\"; }", 10).exit_code == 0);
  ExecResult r = sb->run("pwd; echo $GREETING; f x", 10);
  CHECK(r.out == "/testbed/sub/dir\nhello\nf:x\n");
  r = sb->run("echo no newline; printf 'to err' >&2; false", 10);
  CHECK(r.exit_code == 1);
  CHECK(r.out == "no newline\n");
  CHECK(r.err == "to err");
  // Input is /dev/null: a command reading stdin cannot eat the session's protocol.
  r = sb->run("cat; echo after-cat", 10);
  CHECK(r.out == "after-cat\n");
  CHECK(sb->run("pwd", 10).out == "/testbed/sub/dir\n");
  r = sb->run("cat <<'EOF'\nline $HOME\nEOF\nfor i in 1 2; do\n  echo \"i=$i\"\ndone", 10);
  CHECK(r.out == "line $HOME\ni=1\ni=2\n");
}

TEST_CASE("session timeout kills the command's processes and restarts the session") {
  SKIP_WITHOUT_DOCKER();
  boost::asio::io_context io;
  auto sb = make_docker_sandbox(io, small_config());
  sb->run("cd /tmp && export KEPT=1", 10);
  ExecResult r = sb->run("setsid sh -c 'sleep 5151' & echo begun; sleep 5252", 1.5);
  CHECK(r.reason == StopReason::timeout);
  CHECK(r.session_restarted);
  CHECK(r.out == "begun\n");
  CHECK(r.detail.find("fresh session") != std::string::npos);
  CHECK(processes_matching(*sb, "sleep 5151") == "");
  CHECK(processes_matching(*sb, "sleep 5252") == "");
  r = sb->run("pwd; echo \"kept=$KEPT\"", 10);
  CHECK(r.exit_code == 0);
  CHECK(r.out == "/testbed\nkept=\n");
}

TEST_CASE("exit in the session ends it and the next command runs in a fresh one") {
  SKIP_WITHOUT_DOCKER();
  boost::asio::io_context io;
  auto sb = make_docker_sandbox(io, small_config());
  ExecResult r = sb->run("echo bye; exit 3", 10);
  CHECK(r.exit_code == 3);
  CHECK(r.out == "bye\n");
  CHECK(r.session_restarted);
  r = sb->run("echo again", 10);
  CHECK(r.exit_code == 0);
  CHECK(r.out == "again\n");
}

TEST_CASE("workspace layers are copied in, the top layer winning") {
  SKIP_WITHOUT_DOCKER();
  TempDir lower, top;
  lower.write("a.txt", "lower a\n");
  lower.write("pkg/b.txt", "lower b\n");
  top.write("a.txt", "top a\n");
  std::string long_name(120, 'n');
  top.write("deep/" + long_name + "/c.txt", "long path\n");
  fs::create_symlink("pkg/b.txt", top.path / "link");
  boost::asio::io_context io;
  Config c = small_config();
  c.workspace_lowers = {top.path.string(), lower.path.string()};
  auto sb = make_docker_sandbox(io, c);
  CHECK(sb->run("cat a.txt pkg/b.txt deep/*/c.txt link", 10).out == "top a\nlower b\nlong path\nlower b\n");
  // The user owns the workspace: it can create files at its root.
  ExecResult r = sb->run("touch new && stat -c %u . new a.txt", 10);
  CHECK(r.out == "1000\n1000\n1000\n");
  CHECK(std::get<std::string>(sb->read_file("deep/" + long_name + "/c.txt")) == "long path\n");
}

TEST_CASE("file API reads, writes and lists inside the container") {
  SKIP_WITHOUT_DOCKER();
  boost::asio::io_context io;
  auto sb = make_docker_sandbox(io, small_config());
  std::string binary("a\0b\xff\n", 5);
  CHECK(sb->write_file("dir_missing/x.py", "x").has_value());
  CHECK_FALSE(sb->write_file("x.bin", binary).has_value());
  CHECK(std::get<std::string>(sb->read_file("/testbed/x.bin")) == binary);
  CHECK(sb->run("cat x.bin | wc -c", 10).out == "5\n");
  auto again = sb->write_file("x.bin", "new", /*create_only=*/true);
  REQUIRE(again.has_value());
  CHECK(again->message.find("exists") != std::string::npos);
  CHECK_FALSE(sb->write_file("x.bin", "replaced").has_value());
  CHECK(sb->run("cat x.bin", 10).out == "replaced");

  auto missing = sb->read_file("nope.py");
  REQUIRE(std::holds_alternative<FileError>(missing));
  CHECK(std::get<FileError>(missing).message.find("/testbed/nope.py") != std::string::npos);
  CHECK(std::holds_alternative<FileError>(sb->read_file("/testbed")));

  // /tmp is the container's own tmpfs: what commands write there is what the file API sees.
  sb->run("echo from-shell > /tmp/t.txt", 10);
  CHECK(std::get<std::string>(sb->read_file("/tmp/t.txt")) == "from-shell\n");
  CHECK_FALSE(sb->write_file("/tmp/u.txt", "from-api").has_value());
  CHECK(sb->run("cat /tmp/u.txt", 10).out == "from-api");
  CHECK(sb->exists("/tmp/u.txt"));
  CHECK_FALSE(sb->exists("/tmp/none"));

  sb->run("mkdir -p d/e && echo 12345 > d/f && ln -s f d/l", 10);
  auto listed = sb->list_dir("d");
  REQUIRE(std::holds_alternative<std::vector<DirEntry>>(listed));
  auto& entries = std::get<std::vector<DirEntry>>(listed);
  REQUIRE(entries.size() == 3);
  CHECK(entries[0].name == "e");
  CHECK(entries[0].type == 'd');
  CHECK(entries[1].name == "f");
  CHECK(entries[1].type == 'f');
  CHECK(entries[1].size == 6);
  CHECK(entries[2].name == "l");
  CHECK(entries[2].type == 'l');
  CHECK(std::holds_alternative<FileError>(sb->list_dir("no/such/dir")));
  CHECK(sb->exists("d/l"));
  CHECK_FALSE(sb->exists("d/none"));

  // The root filesystem is read-only.
  CHECK(sb->write_file("/etc/evil", "x").has_value());
}

TEST_CASE("file API survives the agent killing all its processes") {
  SKIP_WITHOUT_DOCKER();
  boost::asio::io_context io;
  auto sb = make_docker_sandbox(io, small_config());
  CHECK_FALSE(sb->write_file("a.txt", "before").has_value());
  sb->run("kill -9 -1", 10);
  CHECK(std::get<std::string>(sb->read_file("a.txt")) == "before");
  std::string big(3 << 20, 'z');
  big[12345] = '\0';
  CHECK_FALSE(sb->write_file("big.bin", big).has_value());
  CHECK((std::get<std::string>(sb->read_file("big.bin")) == big));
  CHECK(sb->run("wc -c < big.bin", 10).out == "3145728\n");
}

TEST_CASE("tar archives round-trip through the daemon's archive endpoints") {
  SKIP_WITHOUT_DOCKER();
  boost::asio::io_context io;
  auto sb = make_docker_sandbox(io, small_config());
  std::string id = dynamic_cast<DockerSandbox&>(*sb).container_id();
  docker_api::Client client;
  std::string long_name = std::string(150, 'q') + ".txt";
  auto put = client.put_archive(id, "/testbed", [&](const docker_api::BodySink& sink) {
    docker_tar::Writer w(sink);
    w.add_dir("pkg", 0755, {1000, 1000});
    w.add_file("pkg/" + long_name, "long\n", 0600, {1000, 1000});
    w.add_symlink("pkg/link", long_name, {1000, 1000});
    w.finish();
  });
  REQUIRE(put.status == 200);
  CHECK(sb->run("cat pkg/link; stat -c '%a %u' pkg/" + long_name, 10).out == "long\n600 1000\n");
  auto got = client.get_archive(id, "/testbed/pkg");
  REQUIRE(got.status == 200);
  auto entries = docker_tar::read(got.body);
  std::map<std::string, docker_tar::Entry> by_name;
  for (auto& e : entries) by_name[e.name] = e;
  REQUIRE(by_name.count("pkg/" + long_name));
  CHECK(by_name["pkg/" + long_name].data == "long\n");
  CHECK(by_name["pkg/link"].type == '2');
  CHECK(by_name["pkg/link"].linkname == long_name);
  CHECK_FALSE(client.stat_path(id, "/testbed/pkg/link").is_null());
  CHECK(client.stat_path(id, "/testbed/none").is_null());
}

TEST_CASE("symlinks planted in the workspace resolve inside the container") {
  SKIP_WITHOUT_DOCKER();
  boost::asio::io_context io;
  auto sb = make_docker_sandbox(io, small_config());
  sb->run("ln -s /etc/passwd pw && ln -s ../../../../etc/hostname up", 10);
  std::string pw = std::get<std::string>(sb->read_file("pw"));
  CHECK(pw == sb->run("cat /etc/passwd", 10).out);
  std::ifstream host_passwd("/etc/passwd");
  std::string host((std::istreambuf_iterator<char>(host_passwd)), {});
  CHECK(pw != host);
  CHECK(std::get<std::string>(sb->read_file("up")) == sb->run("cat /etc/hostname", 10).out);
}

TEST_CASE("sandbox limits: no network, uid 1000, read-only root, pids limit") {
  SKIP_WITHOUT_DOCKER();
  boost::asio::io_context io;
  auto sb = make_docker_sandbox(io, small_config());
  ExecResult r = sb->run("cat /proc/net/dev | tail -n +3 | cut -d: -f1 | tr -d ' '", 10);
  CHECK(r.out == "lo\n");
  CHECK(sb->run("id -u; id -g", 10).out == "1000\n1000\n");
  CHECK(sb->run("touch /etc/x", 10).exit_code != 0);
  CHECK(sb->run("hostname", 10).out == "swebox\n");
  // Each child lives 5 s, so that they pile up past the limit however slowly a loaded machine
  // starts them (with `sleep 1` the first ones could end before the last start: no fork error).
  r = sb->run("for i in $(seq 200); do sleep 5 & done; wait", 60);
  CHECK(r.err.find("fork") != std::string::npos);
}

TEST_CASE("binds appear read-only unless writable, and rlimits apply") {
  SKIP_WITHOUT_DOCKER();
  TempDir ro, rw;
  ro.write("data.txt", "host data\n");
  chmod(ro.path.c_str(), 0755);  // mkdtemp makes 0700: the sandbox user could not enter
  chmod(rw.path.c_str(), 0777);
  boost::asio::io_context io;
  Config c = small_config();
  c.binds = {{ro.path.string(), "/data", false}, {rw.path.string(), "/out", true}};
  c.limits.open_files = 333;
  auto sb = make_docker_sandbox(io, c);
  CHECK(sb->run("cat /data/data.txt", 10).out == "host data\n");
  CHECK(sb->run("echo x > /data/new", 10).exit_code != 0);
  CHECK(sb->run("echo y > /out/new", 10).exit_code == 0);
  CHECK(fs::exists(rw.path / "new"));
  CHECK(sb->run("ulimit -n", 10).out == "333\n");
}

TEST_CASE("reset drops workspace changes and starts a fresh session") {
  SKIP_WITHOUT_DOCKER();
  TempDir lower;
  lower.write("kept.txt", "original\n");
  boost::asio::io_context io;
  Config c = small_config();
  c.workspace_lowers = {lower.path.string()};
  auto sb = make_docker_sandbox(io, c);
  sb->run("echo changed > kept.txt; touch added; cd /tmp", 10);
  sb->reset();
  CHECK(sb->run("cat kept.txt; ls; pwd", 10).out == "original\nkept.txt\n/testbed\n");
}

TEST_CASE("reset ends a command still running in the session at once") {
  SKIP_WITHOUT_DOCKER();
  boost::asio::io_context io;
  auto sb = make_docker_sandbox(io, small_config());
  std::atomic<bool> finished{false};
  ExecResult stuck;
  std::thread runner([&] {
    stuck = sb->run("sleep 100", 90);
    finished = true;
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  auto t0 = std::chrono::steady_clock::now();
  sb->reset();
  runner.join();
  CHECK(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() < 20);
  CHECK(stuck.reason != StopReason::exited);
  CHECK(stuck.session_restarted);
  CHECK(sb->run("echo fresh", 10).out == "fresh\n");
}

TEST_CASE("destroy removes the container and its workspace volume") {
  SKIP_WITHOUT_DOCKER();
  boost::asio::io_context io;
  auto sb = make_docker_sandbox(io, small_config());
  std::string id = dynamic_cast<DockerSandbox&>(*sb).container_id();
  docker_api::Client client;
  auto info = client.call("GET", "/containers/" + id + "/json", nullptr, "inspect");
  std::string volume = info["Mounts"][0]["Name"];
  sb->run("sleep 1000 &", 10);
  sb->destroy();
  sb->destroy();  // idempotent
  CHECK(client.request("GET", "/containers/" + id + "/json").status == 404);
  CHECK(client.request("GET", "/volumes/" + volume).status == 404);
  CHECK(sb->run("true", 10).reason == StopReason::error);
}

TEST_CASE("async_run and async_exec complete on the io_context") {
  SKIP_WITHOUT_DOCKER();
  boost::asio::io_context io;
  auto sb = make_sandbox(io, small_config(), Backend::docker);  // the contract's own dispatch
  REQUIRE(dynamic_cast<DockerSandbox*>(sb.get()) != nullptr);
  std::thread::id io_thread = std::this_thread::get_id();
  std::atomic<int> done{0};
  sb->async_run("echo async", 10, [&](ExecResult r) {
    CHECK(std::this_thread::get_id() == io_thread);
    CHECK(r.out == "async\n");
    ++done;
  });
  sb->async_exec(argv({"echo", "exec"}), [&](ExecResult r) {
    CHECK(std::this_thread::get_id() == io_thread);
    CHECK(r.out == "exec\n");
    ++done;
  });
  io.run();  // returns once both handlers ran: the jobs keep io busy until then
  CHECK(done == 2);
}

// Also the Docker backend's per-action costs for the benchmark: run with
// `test_docker -tc="*per-action*" -s` to see them.
TEST_CASE("per-action cost: a session command costs less than a fresh exec") {
  SKIP_WITHOUT_DOCKER();
  boost::asio::io_context io;
  using Clock = std::chrono::steady_clock;
  // Median of n timed runs after one warm-up (the machine may be shared: medians resist noise).
  auto median_ms = [](int n, const std::function<void()>& action) {
    if (n > 1) action();
    std::vector<double> ms;
    for (int i = 0; i < n; ++i) {
      auto t0 = Clock::now();
      action();
      ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
    }
    std::sort(ms.begin(), ms.end());
    return ms[ms.size() / 2];
  };
  double create_ms = 0;
  std::unique_ptr<Sandbox> sb;
  create_ms = median_ms(1, [&] { sb = make_docker_sandbox(io, small_config()); });
  double run_ms = median_ms(30, [&] { REQUIRE(sb->run("true", 10).exit_code == 0); });
  double exec_ms = median_ms(15, [&] { REQUIRE(sb->exec(argv({"true"})).exit_code == 0); });
  double write_ms = median_ms(15, [&] { REQUIRE_FALSE(sb->write_file("f.txt", "hello\n").has_value()); });
  double read_ms = median_ms(15, [&] { REQUIRE(std::holds_alternative<std::string>(sb->read_file("f.txt"))); });
  double list_ms = median_ms(5, [&] { REQUIRE(std::holds_alternative<std::vector<DirEntry>>(sb->list_dir("."))); });
  double reset_ms = median_ms(2, [&] { sb->reset(); });
  double destroy_ms = median_ms(1, [&] { sb->destroy(); });
  MESSAGE("docker backend, median ms per action: create " << create_ms << ", session run " << run_ms << ", exec "
                                                         << exec_ms << ", write_file " << write_ms << ", read_file "
                                                         << read_ms << ", list_dir " << list_ms << ", reset "
                                                         << reset_ms << ", destroy " << destroy_ms);
  CHECK(run_ms < exec_ms);
}
