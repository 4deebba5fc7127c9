// Escapes through the file API (read_file, write_file, list_dir, exists): symlinks and ".." that
// would lead a host-side implementation out of the sandbox's view. The target is the host canary
// in the host's /tmp, which the sandbox's view does not have (its /tmp is its own tmpfs), so any
// answer that contains the canary's secret, or any change to the canary, is an escape.
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <thread>

#include "tests/sandbox_hostile/hostile_support.h"

using namespace swebox::sandbox;
using namespace swebox::sandbox::hostile;

namespace {

// A read must not return the secret (an error, or the sandbox's own file, is fine).
void expect_no_secret(Sandbox& sb, const std::string& path, const std::string& secret) {
  auto r = sb.read_file(path);
  if (auto* text = std::get_if<std::string>(&r))
    CHECK_MESSAGE(text->find(secret) == std::string::npos, "read_file(", path, ") returned the host's secret");
}

bool lists(Sandbox& sb, const std::string& path, const std::string& name) {
  auto r = sb.list_dir(path);
  if (auto* entries = std::get_if<std::vector<DirEntry>>(&r))
    for (const DirEntry& e : *entries)
      if (e.name == name) return true;
  return false;
}

// The attack program's layer plus a layer of planted links, which the workspace shows on top.
struct PlantedLinks {
  TempDir layer, links;
  HostCanary canary;
  PlantedLinks() { compile_attacks(layer.path()); }
  void link(const std::string& target, const std::string& name) {
    std::filesystem::create_directories(std::filesystem::path(links / name).parent_path());
    REQUIRE(symlink(target.c_str(), (links / name).c_str()) == 0);
  }
  Config config() {
    Config c = hostile_config(layer.path());
    c.workspace_lowers = {links.path(), layer.path()};
    return c;
  }
  std::string dir_name() const { return std::filesystem::path(canary.dir()).filename(); }
};

}  // namespace

TEST_CASE("read_file through a planted absolute symlink resolves in the sandbox's view") {
  PlantedLinks p;
  p.link(p.canary.file(), "abs_secret");
  p.link("/etc/passwd", "abs_passwd");
  Box box(p.config());

  expect_no_secret(*box.sb, "/testbed/abs_secret", p.canary.secret());
  expect_no_secret(*box.sb, "abs_secret", p.canary.secret());
  CHECK_FALSE(box.sb->exists("/testbed/abs_secret/."));
  // A link to a file the sandbox does have reads as the sandbox sees it.
  auto passwd = box.sb->read_file("/testbed/abs_passwd");
  ExecResult cat = box.run("cat /testbed/abs_passwd", 10);
  REQUIRE(std::holds_alternative<std::string>(passwd));
  CHECK(std::get<std::string>(passwd) == cat.out);

  p.canary.expect_intact();
  expect_serving(*box.sb);
}

TEST_CASE("relative symlinks and .. paths cannot climb out of the sandbox's root") {
  PlantedLinks p;
  p.link("../../../../../../../../.." + p.canary.file(), "rel_secret");
  p.link("../../../../../../../../../tmp", "deep/er/rel_tmp");
  Box box(p.config());

  expect_no_secret(*box.sb, "rel_secret", p.canary.secret());
  expect_no_secret(*box.sb, "deep/er/rel_tmp/" + p.dir_name() + "/secret.txt", p.canary.secret());
  expect_no_secret(*box.sb, "/testbed/../../../../../.." + p.canary.file(), p.canary.secret());
  expect_no_secret(*box.sb, "../../../../../.." + p.canary.file(), p.canary.secret());
  expect_no_secret(*box.sb, "deep/../../../../../../.." + p.canary.file(), p.canary.secret());
  CHECK_FALSE(box.sb->exists("../../../../../.." + p.canary.file()));
  CHECK_FALSE(lists(*box.sb, "../../../../../../tmp", p.dir_name()));
  CHECK_FALSE(lists(*box.sb, "deep/er/rel_tmp", p.dir_name()));

  p.canary.expect_intact();
  expect_serving(*box.sb);
}

TEST_CASE("chained symlinks resolve in the sandbox's view") {
  PlantedLinks p;
  p.link("c2", "c1");
  p.link("sub/c3", "c2");
  p.link("../c4", "sub/c3");
  p.link(p.canary.dir(), "c4");
  Box box(p.config());

  expect_no_secret(*box.sb, "c1/secret.txt", p.canary.secret());
  expect_no_secret(*box.sb, "/testbed/c1/secret.txt", p.canary.secret());
  CHECK_FALSE(box.sb->exists("c1/secret.txt"));
  CHECK_FALSE(lists(*box.sb, "c1", "secret.txt"));
  CHECK(box.sb->write_file("c1/new.txt", "pwned").has_value());

  p.canary.expect_intact();
  expect_serving(*box.sb);
}

TEST_CASE("a symlink in a parent component does not lead out") {
  PlantedLinks p;
  p.link(p.canary.dir(), "d");
  p.link("/tmp", "t");
  Box box(p.config());

  expect_no_secret(*box.sb, "d/secret.txt", p.canary.secret());
  expect_no_secret(*box.sb, "t/" + p.dir_name() + "/secret.txt", p.canary.secret());
  CHECK_FALSE(box.sb->exists("d/secret.txt"));
  CHECK_FALSE(box.sb->exists("t/" + p.dir_name()));
  CHECK_FALSE(lists(*box.sb, "d", "secret.txt"));
  CHECK_FALSE(lists(*box.sb, "t", p.dir_name()));
  box.sb->write_file("d/new.txt", "pwned");
  box.sb->write_file("d/secret.txt", "pwned");
  box.sb->write_file("t/" + p.dir_name() + "/secret.txt", "pwned");

  p.canary.expect_intact();  // the secret is unchanged and no new.txt appeared beside it
  expect_serving(*box.sb);
}

TEST_CASE("symlinks to / and /proc/self/root do not reach the host's root") {
  PlantedLinks p;
  p.link("/", "rootlink");
  p.link("/proc/self/root", "pself");
  p.link("/proc/1/root", "pone");
  p.link("/proc/" + std::to_string(p.canary.child()) + "/root", "phost");
  p.link("/proc/self/cwd", "pcwd");
  Box box(p.config());

  for (const std::string link : {"rootlink", "pself", "pone", "phost"}) {
    expect_no_secret(*box.sb, link + p.canary.file(), p.canary.secret());
    CHECK_FALSE(box.sb->exists(link + p.canary.file()));
    CHECK_FALSE(lists(*box.sb, link + "/tmp", p.dir_name()));
    box.sb->write_file(link + p.canary.dir() + "/new.txt", "pwned");
  }
  for (const std::string& abs : std::vector<std::string>{
           "/proc/self/root", "/proc/1/root", "/proc/thread-self/root",
           "/proc/" + std::to_string(p.canary.child()) + "/root", "/proc/" + std::to_string(getpid()) + "/root"}) {
    expect_no_secret(*box.sb, abs + p.canary.file(), p.canary.secret());
    box.sb->write_file(abs + p.canary.dir() + "/new.txt", "pwned");
  }
  expect_no_secret(*box.sb, "pcwd" + p.canary.file(), p.canary.secret());

  p.canary.expect_intact();
  expect_serving(*box.sb);
}

TEST_CASE("write_file through planted symlinks leaves host files untouched") {
  PlantedLinks p;
  // A host system file the sandbox can see through its read-only root, made by the test so that
  // a failure cannot damage a real one (in /usr: /etc shows only allowlisted entries).
  std::string etc_file = "/usr/share/" + random_token();
  write_host_file(etc_file, "host original\n");
  struct Cleanup {
    std::string path;
    ~Cleanup() { unlink(path.c_str()); }
  } cleanup{etc_file};
  p.link(etc_file, "w_etc");
  p.link(p.canary.file(), "w_secret");
  p.link(p.canary.dir(), "w_dir");
  Box box(p.config());
  REQUIRE(box.run("cat " + etc_file, 10).out == "host original\n");  // the sandbox does see it

  box.sb->write_file("w_etc", "pwned\n");
  box.sb->write_file("/testbed/w_etc", "pwned\n");
  box.sb->write_file(etc_file, "pwned\n");
  box.sb->write_file("w_secret", "pwned\n");
  box.sb->write_file("w_dir/new.txt", "pwned\n", true);
  box.sb->write_file("w_dir/secret.txt", "pwned\n", false);
  CHECK(read_host_file(etc_file) == "host original\n");

  p.canary.expect_intact();
  expect_serving(*box.sb);
}

TEST_CASE("symlinks the sandbox plants at run time do not lead the file API out") {
  PlantedLinks p;
  Box box(p.config());
  ExecResult r = box.run("ln -s " + p.canary.file() + " /testbed/evil; ln -s " + p.canary.dir() +
                             " /testbed/evildir; ln -s / /testbed/evilroot; mkdir -p /testbed/a/b; ln -s ../../evildir "
                             "/testbed/a/b/up; ln -s /proc/self/root /testbed/evilproc; echo planted",
                         10);
  REQUIRE(r.out == "planted\n");

  expect_no_secret(*box.sb, "evil", p.canary.secret());
  expect_no_secret(*box.sb, "evildir/secret.txt", p.canary.secret());
  expect_no_secret(*box.sb, "evilroot" + p.canary.file(), p.canary.secret());
  expect_no_secret(*box.sb, "a/b/up/secret.txt", p.canary.secret());
  expect_no_secret(*box.sb, "evilproc" + p.canary.file(), p.canary.secret());
  CHECK_FALSE(box.sb->exists("evildir/secret.txt"));
  CHECK_FALSE(lists(*box.sb, "evildir", "secret.txt"));
  CHECK_FALSE(lists(*box.sb, "evilroot/tmp", p.dir_name()));
  box.sb->write_file("evil", "pwned");
  box.sb->write_file("evildir/new.txt", "pwned");
  box.sb->write_file("a/b/up/new2.txt", "pwned");

  p.canary.expect_intact();
  expect_serving(*box.sb);
}

TEST_CASE("a symlink swapped during file API calls never exposes the host") {
  PlantedLinks p;
  Box box(p.config());
  // Inside: flip /testbed/flip between a plain file and a link to the host canary, atomically,
  // as fast as possible, while the host reads and writes it.
  ExecResult started = box.run("echo plain > /testbed/flip; ( for i in $(seq 200000); do ln -sfn " + p.canary.file() +
                                   " /testbed/.l && mv -Tf /testbed/.l /testbed/flip; echo plain > /testbed/.f && "
                                   "mv -Tf /testbed/.f /testbed/flip; done ) >/dev/null 2>&1 & echo $!",
                               10);
  std::string flipper = started.out.substr(0, started.out.find('\n'));
  REQUIRE_FALSE(flipper.empty());
  int plain = 0;
  for (int i = 0; i < 400; ++i) {
    auto r = box.sb->read_file("flip");
    if (auto* text = std::get_if<std::string>(&r)) {
      REQUIRE_MESSAGE(text->find(p.canary.secret()) == std::string::npos, "a swapped link exposed the host file");
      if (*text == "plain\n") ++plain;
    }
    if (i % 4 == 0) box.sb->write_file("flip", "pwned\n");
  }
  MESSAGE("read the plain file ", plain, " times of 400");
  box.run("kill " + flipper, 10);

  p.canary.expect_intact();
  expect_serving(*box.sb);
}
