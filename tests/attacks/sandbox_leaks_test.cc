// Attacks on the sandbox's view and identity, as real episodes through `swebox run`: the agent
// looks for the answer on the visible filesystem (the suite file, the repository mirrors, the
// cache's other trees, other samples' files, a concurrent sandbox's state dir, the host's argv,
// /var, /opt, a host working dir, /root), takes every inotify instance, fills the disk, dials a
// host unix socket. Each asserts: nothing leaked into any output, the verdict is unresolved, the
// host is unchanged, and the runner went on with the next episode.
//
// The fixture's suite, repos and cache are copied under /var/tmp for these runs (the harness's own
// copies live in the host's /tmp, which a sandbox never saw): /var was visible before the
// allowlist root, so each test fails if the view regresses.
#include <doctest/doctest.h>

#include <fcntl.h>
#include <poll.h>
#include <sys/inotify.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <thread>

#include "../runner/runner_fixture.h"
#include "attack_episode.h"

using namespace swebox::test;
namespace fs = std::filesystem;

namespace {

// A line of the fixture's gold patch for calc-1 (and of the fix commit in its repository): seen
// anywhere in a run's outputs, the answer leaked.
constexpr const char* kGoldLine = "range(abs(b))";
constexpr const char* kTarget = "swebox-fixtures__calc-1";
constexpr const char* kNext = "swebox-fixtures__calc-2";

std::string token() {
  static std::mt19937_64 rng{std::random_device{}()};
  std::ostringstream s;
  s << "swebox-bait-" << std::hex << rng();
  return s.str();
}

void write(const std::string& path, const std::string& data) {
  fs::create_directories(fs::path(path).parent_path());
  std::ofstream(path, std::ios::binary) << data;
}

std::string read(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::ostringstream s;
  s << f.rdbuf();
  return s.str();
}

// A copy of the fixture (suite, repos, cache) in a host dir that is not /tmp, used by the run.
struct Bait {
  std::string dir;
  std::vector<std::string> args;
  Bait() {
    const RunnerFixture& f = runner_fixture();
    dir = "/var/tmp/" + token();
    fs::create_directories(dir);
    fs::copy_file(f.suite, dir + "/suite.jsonl");
    fs::copy(f.repos, dir + "/repos", fs::copy_options::recursive);
    // Every fixture instance's base tree is cached: the other trees are there to be found.
    swebox::tasks::WorkspaceCache cache(dir + "/repos", dir + "/cache");
    for (const auto& inst : f.instances) {
      try {
        cache.base_tree(inst);
      } catch (const std::exception&) {
        // (Some fixture instances name a missing commit on purpose.)
      }
    }
    chmod(dir.c_str(), 0755);
    args = {"--suite", dir + "/suite.jsonl", "--repos", dir + "/repos", "--cache", dir + "/cache"};
  }
  ~Bait() {
    std::error_code ec;
    fs::remove_all(dir, ec);
  }
};

// A secret file planted in a real host location (world-readable: only the view keeps it out).
struct Planted {
  std::string dir, file, secret;
  explicit Planted(const std::string& parent) : secret(token()) {
    dir = parent + "/" + token();
    file = dir + "/secret.txt";
    write(file, secret + "\n");
    chmod(dir.c_str(), 0755);
    chmod(file.c_str(), 0644);
  }
  ~Planted() {
    std::error_code ec;
    fs::remove_all(dir, ec);
  }
};

// Runs the attack on calc-1, then an honest do-nothing episode on calc-2, and checks the common
// outcome: `secrets` appear nowhere in the run's outputs, `hidden` nowhere in the attacking
// episode's record (host paths, which the run's own summary may name).
AttackRun attack(const std::string& command, const std::vector<std::string>& secrets, const Bait& bait,
                 const std::vector<std::string>& hidden = {}, std::vector<std::string> extra = {}) {
  std::vector<std::string> args = bait.args;
  args.insert(args.end(), extra.begin(), extra.end());
  AttackRun run = run_attack_episodes(
      {{kTarget, {bash_action(command), submit_action("/tmp/none.diff"), "Done.\n\n## Searched."}},
       {kNext, {bash_action("echo next episode ran"), submit_action("/tmp/none.diff"), "Done.\n\n## Nothing."}}},
      args);
  INFO(run.console.substr(0, 4000));
  CHECK(run.exit_code == 0);
  std::string all = run.all_outputs();
  CHECK_MESSAGE(all.find(kGoldLine) == std::string::npos, "the gold patch leaked into the outputs");
  for (const auto& s : secrets) CHECK_MESSAGE(all.find(s) == std::string::npos, "leaked: ", s);
  const nlohmann::json* target = run.episode(kTarget);
  const nlohmann::json* next = run.episode(kNext);
  REQUIRE(target);
  REQUIRE(next);
  std::string record = target->dump();
  for (const auto& h : hidden) CHECK_MESSAGE(record.find(h) == std::string::npos, "the episode saw ", h);
  CHECK((*target)["terminal"]["eval"]["resolved"] != true);
  CHECK(next->dump().find("next episode ran") != std::string::npos);
  // The bait itself is unchanged.
  CHECK(read(bait.dir + "/suite.jsonl") == read(runner_fixture().suite));
  return run;
}

// What the agent runs to find files named like `pattern` anywhere and print them.
std::string find_and_print(const std::string& find_expr) {
  return "find / \\( -path /proc -o -path /sys -o -path /dev \\) -prune -o \\( " + find_expr +
         " \\) -print 2>/dev/null | head -50 | tee /tmp/found; "
         "for f in $(cat /tmp/found); do test -f $f && head -c 20000 $f; done; true";
}

}  // namespace

TEST_CASE("sandbox attack: the suite file is not on the visible filesystem") {
  SWEBOX_REQUIRE_ATTACKS();
  Bait bait;
  attack(find_and_print("-name '*.jsonl' -o -name '*.json'"), {}, bait, {bait.dir});
}

TEST_CASE("sandbox attack: the repository mirrors (the fix's commit) are not visible") {
  SWEBOX_REQUIRE_ATTACKS();
  Bait bait;
  attack("for g in $(find / \\( -path /proc -o -path /sys \\) -prune -o \\( -name packed-refs -o -name HEAD \\) "
         "-print 2>/dev/null); do d=$(dirname $g); git -C $d log --all -p 2>/dev/null | head -400; done; true",
         {}, bait, {bait.dir});
}

TEST_CASE("sandbox attack: the cache's other base trees are not visible") {
  SWEBOX_REQUIRE_ATTACKS();
  Bait bait;
  // Every cached tree is a directory named by a 40-hex commit; calc's later trees hold the fix.
  attack("find / \\( -path /proc -o -path /sys -o -path /testbed \\) -prune -o -type d -regextype egrep "
         "-regex '.*/[0-9a-f]{40}.*' -print 2>/dev/null | head; "
         "grep -rs --include=ops.py -h 'range(' / --exclude-dir=proc --exclude-dir=sys --exclude-dir=testbed | head",
         {}, bait, {bait.dir});
}

TEST_CASE("sandbox attack: other samples' out files (eval.sh, report.json) are not visible") {
  SWEBOX_REQUIRE_ATTACKS();
  Bait bait;
  Planted other("/var/tmp");
  write(other.dir + "/other-run/swebox-fixtures__calc-1/eval.sh", other.secret + "\n");
  write(other.dir + "/other-run/swebox-fixtures__calc-1/report.json", "{\"" + other.secret + "\": 1}\n");
  attack(find_and_print("-name eval.sh -o -name report.json -o -name trajectories.jsonl"), {other.secret}, bait,
         {bait.dir});
}

TEST_CASE("sandbox attack: a concurrent sandbox's TMPDIR state dir is not visible") {
  SWEBOX_REQUIRE_ATTACKS();
  Bait bait;
  // Sandboxes' state dirs (upper layers) go to $TMPDIR; two episodes run at once (-j 2): the first
  // writes a secret into its workspace and waits; the second looks for it.
  std::string state = bait.dir + "/tmpdir";
  fs::create_directories(state);
  const char* old = getenv("TMPDIR");
  std::string saved = old ? old : "";
  setenv("TMPDIR", state.c_str(), 1);
  std::string secret = token();
  std::string half1 = secret.substr(0, secret.size() / 2), half2 = secret.substr(secret.size() / 2);
  AttackRun run = run_attack_episodes(
      {{kNext, {bash_action("echo " + half1 + "''" + half2 + " > /testbed/SECRET_NOTE; sleep 8; echo next episode ran"),
                submit_action("/tmp/none.diff"), "Done.\n\n## Waited."}},
       {kTarget, {bash_action("sleep 2; find / \\( -path /proc -o -path /sys \\) -prune -o -name 'SECRET_NOTE*' "
                              "-print 2>/dev/null; cat $(find / -name 'SECRET_NOTE*' 2>/dev/null | grep -v ^/testbed) "
                              "2>/dev/null; ls -la $TMPDIR /var/tmp 2>&1 | head; true"),
                  submit_action("/tmp/none.diff"), "Done.\n\n## Searched."}}},
      [&] {
        std::vector<std::string> a = bait.args;
        a.insert(a.end(), {"-j", "2"});
        return a;
      }());
  if (old) setenv("TMPDIR", saved.c_str(), 1);
  else unsetenv("TMPDIR");
  INFO(run.console.substr(0, 4000));
  CHECK(run.exit_code == 0);
  const nlohmann::json* target = run.episode(kTarget);
  REQUIRE(target);
  REQUIRE(run.episode(kNext));
  // The secret is in the writer's own observation at most (it echoes nothing), never in the reader's.
  CHECK(target->dump().find(secret) == std::string::npos);
  CHECK(target->dump().find(state) == std::string::npos);
  CHECK((*target)["terminal"]["eval"]["resolved"] != true);
}

TEST_CASE("sandbox attack: /proc/1/cmdline and environ show nothing of the host's swebox run") {
  SWEBOX_REQUIRE_ATTACKS();
  Bait bait;
  std::string secret = token();
  setenv("SWEBOX_ATTACK_SECRET", secret.c_str(), 1);  // in swebox run's environment
  AttackRun run = attack("for p in /proc/[0-9]*; do echo $p; tr '\\0' ' ' < $p/cmdline; echo; tr '\\0' '\\n' < "
                         "$p/environ; done 2>/dev/null; true",
                         {secret}, bait, {bait.dir, "--suite", "--repos", "--out"});
  unsetenv("SWEBOX_ATTACK_SECRET");
  CHECK(run.all_outputs().find("swebox-sandbox") != std::string::npos);  // init's neutral argv was read
}

TEST_CASE("sandbox attack: /var, /opt, /srv, /root and a host working dir are not visible") {
  SWEBOX_REQUIRE_ATTACKS();
  Bait bait;
  Planted var("/var/lib"), opt("/opt"), srv("/srv"), root("/root"),
      work(std::string(SWEBOX_SOURCE_DIR) + "/build");  // the checkout: a host working dir
  attack("for d in /var /opt /srv /root /home /work " + std::string(SWEBOX_SOURCE_DIR) +
             "; do ls -la $d 2>&1 | head -20; done; "
             "find / \\( -path /proc -o -path /sys \\) -prune -o -name secret.txt -print -exec cat {} \\; 2>/dev/null; true",
         {var.secret, opt.secret, srv.secret, root.secret, work.secret}, bait);
}

TEST_CASE("sandbox attack: taking every inotify instance leaves host root its own") {
  SWEBOX_REQUIRE_ATTACKS();
  Bait bait;
  // While the episode holds every inotify instance its user may have, the host keeps making them.
  std::atomic<bool> stop{false};
  std::atomic<int> host_failures{0}, host_tries{0};
  std::thread probe([&] {
    while (!stop) {
      int fd = inotify_init1(IN_CLOEXEC);
      ++host_tries;
      if (fd < 0) ++host_failures;
      else close(fd);
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  });
  AttackRun run = attack("python3 -c 'import ctypes,time\n"
                         "libc=ctypes.CDLL(None)\n"
                         "n=0\n"
                         "while libc.inotify_init()>=0: n+=1\n"
                         "print(\"held\",n,flush=True)\n"
                         "time.sleep(6)'",
                         {}, bait);
  stop = true;
  probe.join();
  CHECK(run.all_outputs().find("held") != std::string::npos);
  CHECK(host_tries > 10);
  CHECK_MESSAGE(host_failures == 0, "host root got EMFILE from inotify_init while the sandbox held its instances");
}

TEST_CASE("sandbox attack: filling the workspace ends with No space left on device, not on the host's disk") {
  SWEBOX_REQUIRE_ATTACKS();
  Bait bait;
  std::string state = bait.dir + "/tmpdir";
  fs::create_directories(state);
  const char* old = getenv("TMPDIR");
  std::string saved = old ? old : "";
  setenv("TMPDIR", state.c_str(), 1);
  // The host side of the state dirs is watched during the run: the fill must not land there.
  std::atomic<bool> stop{false};
  std::atomic<uintmax_t> most{0};
  std::thread watch([&] {
    while (!stop) {
      uintmax_t total = 0;
      std::error_code ec;
      struct stat disk;
      if (stat(state.c_str(), &disk) != 0) continue;
      for (auto it = fs::recursive_directory_iterator(state, ec); !ec && it != fs::recursive_directory_iterator();
           it.increment(ec)) {
        struct stat st;
        // Only files on the host's disk count (a capped upper is a tmpfs: another device).
        if (lstat(it->path().c_str(), &st) == 0 && S_ISREG(st.st_mode) && st.st_dev == disk.st_dev)
          total += uintmax_t(st.st_blocks) * 512;
      }
      if (total > most) most = total;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  });
  // Two files, each under the file size limit (1 GiB), together past the workspace's cap (1 GiB).
  AttackRun run = attack("for f in fill1 fill2; do dd if=/dev/zero of=/testbed/$f bs=1M count=700 2>&1 | grep -i space; "
                         "done; rm -f /testbed/fill1 /testbed/fill2; true",
                         {}, bait);
  stop = true;
  watch.join();
  if (old) setenv("TMPDIR", saved.c_str(), 1);
  else unsetenv("TMPDIR");
  if (geteuid() == 0) {
    CHECK(run.all_outputs().find("No space left on device") != std::string::npos);
    CHECK_MESSAGE(most < (64u << 20), "the workspace wrote ", most, " bytes to the host's disk");
  }
}

TEST_CASE("sandbox attack: a host unix socket is not reachable") {
  SWEBOX_REQUIRE_ATTACKS();
  Bait bait;
  std::string path = bait.dir + "/daemon.sock";
  int srv = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  REQUIRE(srv >= 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
  REQUIRE(bind(srv, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  REQUIRE(listen(srv, 8) == 0);
  chmod(path.c_str(), 0777);
  attack("for s in $(find / \\( -path /proc -o -path /sys \\) -prune -o -type s -print 2>/dev/null) " + path +
             "; do python3 -c 'import socket,sys\n"
             "s=socket.socket(socket.AF_UNIX)\n"
             "try:\n s.connect(sys.argv[1]); s.send(b\"hello\"); print(\"connected\",sys.argv[1])\n"
             "except Exception as e: print(\"refused\",e)' $s; done",
         {}, bait);
  pollfd p{srv, POLLIN, 0};
  CHECK_MESSAGE(poll(&p, 1, 0) == 0, "a connection reached the host's socket");
  close(srv);
}
