#include <doctest/doctest.h>

#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>

#include "tasks/repository.h"
#include "tasks/suite.h"
#include "tasks/workspace_cache.h"
#include "tasks/workspace_diff.h"
#include "tests/tasks/git_fixture.h"

using namespace swebox::tasks;
using namespace swebox::tasks::testing;
namespace fs = std::filesystem;

namespace {
const std::string kGit = "git -c safe.directory='*' ";

// A work tree at a base commit holding text, executable, symlink, binary and ignored files.
struct DiffFixture {
  TempDir tmp;
  std::string dir = tmp.path + "/w";
  std::string base;
  explicit DiffFixture(bool with_binary = true) {
    write_file(dir + "/a.py", "def f():\n    return 1\n\n\ndef g():\n    return 2\n");
    write_file(dir + "/sub/b.py", "print('b')\n");
    write_file(dir + "/sub/deep/c.txt", "c\n");
    write_file(dir + "/run.sh", "#!/bin/sh\necho run\n");
    write_file(dir + "/tracked.log", "tracked although *.log is ignored\n");
    write_file(dir + "/.gitignore", "*.log\nbuild/\n!keep.log\n");
    fs::create_symlink("a.py", dir + "/link");
    if (with_binary) {
      write_file(dir + "/img.bin", std::string("\0\1\2\3binary\0data", 15));
      write_file(dir + "/old.bin", std::string("\0\0\0gone", 7));
    }
    auto r = sh("git init -q -b main . && git add -A && git add -f tracked.log && git commit -q -m base && "
                "git rev-parse HEAD",
                dir);
    REQUIRE(r.status == 0);
    base = r.out.substr(r.out.size() - 41, 40);
  }
  // The agent's work: edits, a deletion, new files and dirs, a mode change, a new link target,
  // ignored files that must not show.
  void change(bool with_binary = true) {
    write_file(dir + "/a.py", "def f():\n    return 10\n\n\ndef g():\n    return 2\n\n\ndef h():\n    pass\n");
    fs::remove(dir + "/sub/b.py");
    write_file(dir + "/new.py", "print('new')\n");
    write_file(dir + "/newdir/inner/x.txt", "x\n");
    write_file(dir + "/no_newline.txt", "no newline at the end");
    chmod((dir + "/run.sh").c_str(), 0755);
    fs::remove(dir + "/link");
    fs::create_symlink("sub/deep/c.txt", dir + "/link");
    write_file(dir + "/tracked.log", "still tracked, so it shows\n");
    write_file(dir + "/debug.log", "ignored\n");
    write_file(dir + "/keep.log", "re-included by !keep.log\n");
    write_file(dir + "/build/out.o", "ignored dir\n");
    write_file(dir + "/sub/deep/build/y", "ignored at depth\n");
    fs::create_directories(dir + "/empty_dir");
    if (with_binary) {
      write_file(dir + "/img.bin", std::string("\0\1\2\3BINARY\0changed", 18));
      fs::remove(dir + "/old.bin");
      write_file(dir + "/new.bin", std::string("\x89PNG\0\0new", 9));
    }
  }
};
}  // namespace

TEST_CASE("an unchanged tree has an empty diff") {
  DiffFixture f;
  CHECK(workspace_diff(f.dir, f.base) == "");
}

TEST_CASE("the diff equals git add -N and git diff of the base, untracked files included, ignored ones not") {
  DiffFixture f(/*with_binary=*/false);
  f.change(false);
  std::string ours = workspace_diff(f.dir, f.base);
  auto git = sh("git add -N . && git diff " + f.base, f.dir);
  REQUIRE(git.status == 0);
  CHECK(ours == git.out);
  CHECK(ours.find("diff --git a/new.py b/new.py\nnew file mode 100644") != std::string::npos);
  CHECK(ours.find("diff --git a/sub/b.py b/sub/b.py\ndeleted file mode 100644") != std::string::npos);
  CHECK(ours.find("old mode 100644\nnew mode 100755") != std::string::npos);
  CHECK(ours.find("keep.log") != std::string::npos);
  CHECK(ours.find("tracked.log") != std::string::npos);
  CHECK(ours.find("debug.log") == std::string::npos);
  CHECK(ours.find("out.o") == std::string::npos);
  CHECK(ours.find("build/y") == std::string::npos);
}

TEST_CASE("git apply of the diff onto the base reproduces the tree, binary files included") {
  DiffFixture f;
  f.change();
  std::string patch = workspace_diff(f.dir, f.base);
  CHECK(patch.find("diff --git a/new.bin b/new.bin\nnew file mode 100644") != std::string::npos);
  CHECK(patch.find("GIT binary patch") != std::string::npos);
  CHECK(patch.find("diff --git a/old.bin b/old.bin\ndeleted file mode 100644") != std::string::npos);
  write_file(f.tmp.path + "/agent.diff", patch);
  std::string copy = f.tmp.path + "/copy";
  REQUIRE(sh("git clone -q " + f.dir + " " + copy, f.tmp.path).status == 0);
  REQUIRE(sh("git checkout -q " + f.base, copy).status == 0);
  auto applied = sh("git apply --binary " + f.tmp.path + "/agent.diff", copy);
  CHECK_MESSAGE(applied.status == 0, applied.out);
  auto compare = sh("diff -r --no-dereference -x .git -x debug.log -x build -x empty_dir " + f.dir + " " + copy, "/");
  CHECK_MESSAGE(compare.status == 0, compare.out);
  CHECK(workspace_diff(copy, f.base) == patch);

  SUBCASE("with binary_patches off, binary changes are only marked") {
    WorkspaceDiffOptions opts;
    opts.binary_patches = false;
    std::string marked = workspace_diff(f.dir, f.base, opts);
    CHECK(marked.find("Binary files a/img.bin and b/img.bin differ") != std::string::npos);
    CHECK(marked.find("GIT binary patch") == std::string::npos);
  }
}

TEST_CASE("the diff reads a cached workspace through another path with the cache's objects") {
  TempDir tmp;
  auto repo = make_fixture_repo(tmp.path + "/repos");
  WorkspaceCache cache(tmp.path + "/repos", tmp.path + "/cache");
  std::string lower = cache.base_tree("acme/widget", repo.base_commit);
  // A stand-in for the sandbox's merged view: a copy of the lower layer, edited, with its .git gone
  // (what an agent may do), read through /proc/self/root.
  std::string merged = tmp.path + "/merged";
  REQUIRE(sh("cp -a " + lower + " " + merged + " && rm -rf " + merged + "/.git", "/").status == 0);
  write_file(merged + "/src/widget.py", read_file(merged + "/src/widget.py") + "# agent\n");
  WorkspaceDiffOptions opts;
  opts.objects_repo = lower;
  std::string patch = workspace_diff("/proc/self/root" + merged, repo.base_commit, opts);
  CHECK(patch.find("diff --git a/src/widget.py b/src/widget.py") != std::string::npos);
  CHECK(patch.find("+# agent\n") != std::string::npos);
  CHECK(patch.find("README") == std::string::npos);
  CHECK_THROWS_AS(workspace_diff(merged, repo.base_commit), RepositoryError);  // no .git, no objects_repo
  CHECK_THROWS_WITH_AS(workspace_diff(tmp.path + "/absent", repo.base_commit, opts), doctest::Contains("no such directory"),
                       std::runtime_error);
}

TEST_CASE("the diff of an edited real sympy workspace is quick and shows only the edit") {
  std::string suite = std::string(SWEBOX_SHARED_DIR) + "/data/swebench/verified.test.jsonl";
  if (!fs::exists("/work/repos/sympy__sympy") || !fs::exists(suite)) {
    MESSAGE("skipped: needs /work/repos/sympy__sympy (a fetched repository) and " << suite);
    return;
  }
  auto insts = filter_instances(load_suite(suite).instances, {"sympy__sympy-24661"});
  REQUIRE(insts.size() == 1);
  TempDir tmp;
  WorkspaceCache cache("/work/repos", tmp.path + "/cache");
  std::string tree = cache.base_tree(insts[0]);
  std::string work = tmp.path + "/work";
  REQUIRE(sh("cp -a " + tree + " " + work, "/").status == 0);
  // The gold patch as the agent's edit.
  write_file(tmp.path + "/gold.diff", insts[0].patch);
  REQUIRE(sh(kGit + "apply " + tmp.path + "/gold.diff", work).status == 0);
  auto t0 = std::chrono::steady_clock::now();
  std::string patch = workspace_diff(work, insts[0].base_commit);
  double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  MESSAGE("workspace_diff of sympy (" << insts[0].instance_id << "): " << s * 1e3 << " ms");
  CHECK(patch == sh(kGit + "diff " + insts[0].base_commit, work).out);
}

// ---- the judge's form: an overlay's upper layer over its lower, read without the overlay

namespace {
// A real overlay over a DiffFixture's tree (the lower), mounted at merged/; skipped where this
// process cannot mount one.
struct OverlayFixture {
  DiffFixture f;
  std::string upper = f.tmp.path + "/upper", work = f.tmp.path + "/work", merged = f.tmp.path + "/merged";
  bool mounted = false;
  OverlayFixture() {
    fs::create_directories(upper);
    fs::create_directories(work);
    fs::create_directories(merged);
    mounted = sh("mount -t overlay overlay -o lowerdir=" + f.dir + ",upperdir=" + upper + ",workdir=" + work + " " +
                     merged + " 2>&1", "/")
                  .status == 0;
  }
  void unmount() {
    if (mounted) sh("umount " + merged, "/");
    mounted = false;
  }
  ~OverlayFixture() { unmount(); }
};
}  // namespace

TEST_CASE("the diff of an overlay's upper layer over its lower equals the diff of the merged view") {
  OverlayFixture o;
  if (!o.mounted) {
    MESSAGE("skipped: cannot mount an overlay here");
    return;
  }
  const std::string m = o.merged;
  // The agent's work through the overlay: edits (copy-up), deletions (whiteouts), a directory
  // removed and made again (opaque), new files and dirs, a mode change, a relinked symlink.
  write_file(m + "/a.py", "def f():\n    return 10\n");
  fs::remove(m + "/sub/b.py");
  fs::remove_all(m + "/sub/deep");
  write_file(m + "/sub/deep/fresh.txt", "fresh\n");
  write_file(m + "/newdir/inner/x.txt", "x\n");
  chmod((m + "/run.sh").c_str(), 0755);
  fs::remove(m + "/link");
  fs::create_symlink("run.sh", m + "/link");
  fs::remove(m + "/old.bin");
  write_file(m + "/debug.log", "ignored\n");
  std::string expected = workspace_diff(m, o.f.base);
  o.unmount();
  WorkspaceDiffResult got = upper_layer_diff(o.upper, o.f.dir, o.f.base);
  CHECK_FALSE(got.refused);
  CHECK(got.patch == expected);
  CHECK(got.patch.find("diff --git a/sub/deep/c.txt b/sub/deep/c.txt\ndeleted file") != std::string::npos);
  CHECK(got.patch.find("sub/deep/fresh.txt") != std::string::npos);
  CHECK(got.patch.find("debug.log") == std::string::npos);
  CHECK_FALSE(got.git_touched);
  CHECK(got.bytes_read < 1000);  // only the agent's files were read
}

TEST_CASE("the upper-layer diff records links as their text, skips special files and flags .git") {
  OverlayFixture o;
  if (!o.mounted) {
    MESSAGE("skipped: cannot mount an overlay here");
    return;
  }
  TempDir host;
  write_file(host.path + "/secret", "HOST-SECRET-7f3a\n");
  fs::create_symlink(host.path + "/secret", o.merged + "/a.py.new");
  fs::remove(o.merged + "/a.py");
  fs::create_symlink(host.path + "/secret", o.merged + "/a.py");  // a tracked file swapped for a link
  REQUIRE(mkfifo((o.merged + "/pipe").c_str(), 0644) == 0);
  REQUIRE(sh("mkdir -p " + o.merged + "/.git/info && rm -f " + o.merged + "/.git/info/exclude && mkfifo " + o.merged +
                 "/.git/info/exclude", "/").status == 0);
  write_file(o.merged + "/.gitignore", "*.log\n");
  o.unmount();
  WorkspaceDiffResult got = upper_layer_diff(o.upper, o.f.dir, o.f.base);
  REQUIRE_FALSE(got.refused);
  CHECK(got.patch.find("HOST-SECRET") == std::string::npos);
  CHECK(got.patch.find("+" + host.path + "/secret") != std::string::npos);  // the link's text
  CHECK(got.patch.find("new file mode 120000") != std::string::npos);
  REQUIRE(got.skipped.size() == 1);
  CHECK(got.skipped[0] == "pipe (fifo)");
  CHECK(got.git_touched);
  nlohmann::json audit = got.audit();
  CHECK(audit["git_touched"] == true);
  CHECK(audit["skipped_special"][0] == "pipe (fifo)");
}

TEST_CASE("the upper-layer diff refuses past its caps, in bounded time and memory") {
  OverlayFixture o;
  if (!o.mounted) {
    MESSAGE("skipped: cannot mount an overlay here");
    return;
  }
  for (int i = 0; i < 20; ++i) write_file(o.merged + "/junk/" + std::to_string(i) + ".bin", std::string(1 << 20, 'x'));
  o.unmount();
  WorkspaceDiffOptions small;
  small.limits.max_file_bytes = 512 << 10;
  WorkspaceDiffResult r = upper_layer_diff(o.upper, o.f.dir, o.f.base, small);
  CHECK(r.refused);
  CHECK(r.patch.empty());
  CHECK(r.refused_reason.find("a changed file is over 524288 bytes") != std::string::npos);

  WorkspaceDiffOptions total;
  total.limits.max_total_bytes = 4 << 20;
  r = upper_layer_diff(o.upper, o.f.dir, o.f.base, total);
  CHECK(r.refused);
  CHECK(r.refused_reason.find("in all") != std::string::npos);
  CHECK(r.bytes_read <= (4u << 20));

  WorkspaceDiffOptions patch;
  patch.limits.max_patch_bytes = 1 << 20;
  r = upper_layer_diff(o.upper, o.f.dir, o.f.base, patch);
  CHECK(r.refused);
  CHECK(r.refused_reason.find("the patch is over") != std::string::npos);

  WorkspaceDiffOptions entries;
  entries.limits.max_entries = 10;
  r = upper_layer_diff(o.upper, o.f.dir, o.f.base, entries);
  CHECK(r.refused);
  CHECK(r.refused_reason.find("new entries") != std::string::npos);

  WorkspaceDiffOptions time;
  time.limits.max_seconds = 0;
  r = upper_layer_diff(o.upper, o.f.dir, o.f.base, time);
  CHECK(r.refused);
  CHECK(r.refused_reason.find("longer than") != std::string::npos);
}

TEST_CASE("a hostile .gitignore costs the diff no time") {
  DiffFixture f(false);
  std::string hostile;
  for (int i = 0; i < 100; ++i) hostile += "*a";
  std::string rules;
  for (int i = 0; i < 200; ++i) rules += hostile + "b" + std::to_string(i) + "\n";
  write_file(f.dir + "/.gitignore", rules);
  write_file(f.dir + "/" + std::string(200, 'a'), "new\n");
  auto t0 = std::chrono::steady_clock::now();
  std::string patch = workspace_diff(f.dir, f.base);
  double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  MESSAGE("diff with 200 hostile globs: " << s * 1e3 << " ms");
  CHECK(s < 5);
  CHECK(patch.find(std::string(200, 'a')) != std::string::npos);
}
