#include <doctest/doctest.h>

#include <filesystem>

#include "tasks/patch_apply.h"
#include "tests/tasks/git_fixture.h"

using namespace swebox::tasks;
using namespace swebox::tasks::testing;
namespace fs = std::filesystem;

namespace {
std::string numbered(int from, int to, const std::string& prefix = "line") {
  std::string s;
  for (int i = from; i <= to; ++i) s += prefix + " " + std::to_string(i) + "\n";
  return s;
}

// A git work tree with mod.py (40 lines) and gone.txt committed; `patch` changes line 20 of
// mod.py, adds new.txt and deletes gone.txt (made with git diff, then undone).
struct PatchFixture {
  TempDir tmp;
  std::string dir = tmp.path + "/w";
  std::string original = numbered(1, 40);
  std::string patched;
  std::string patch;
  PatchFixture() {
    write_file(dir + "/mod.py", original);
    write_file(dir + "/gone.txt", "old\n");
    sh("git init -q -b main . && git add -A && git commit -q -m base", dir);
    patched = original;
    patched.replace(patched.find("line 20\n"), 8, "line twenty\nline 20.5\n");
    write_file(dir + "/mod.py", patched);
    write_file(dir + "/new.txt", "brand new\n");
    fs::remove(dir + "/gone.txt");
    sh("git add -A", dir);
    patch = sh("git diff --cached", dir).out;
    sh("git reset -q --hard", dir);
    REQUIRE(read_file(dir + "/mod.py") == original);
  }
  void rewrite(const std::string& text) { write_file(dir + "/mod.py", text); }
  std::string mod() { return read_file(dir + "/mod.py"); }
  bool patched_tree() {
    return mod().find("line twenty\nline 20.5\n") != std::string::npos && fs::exists(dir + "/new.txt") &&
           !fs::exists(dir + "/gone.txt");
  }
};
}  // namespace

TEST_CASE("a clean patch applies with libgit2's strict apply") {
  PatchFixture f;
  auto r = apply_patch(f.dir, f.patch);
  CHECK(r.applied);
  CHECK(r.strategy == "git apply");
  CHECK(f.mod() == f.patched);
  CHECK(read_file(f.dir + "/new.txt") == "brand new\n");
  CHECK(!fs::exists(f.dir + "/gone.txt"));
  CHECK(r.files == std::vector<std::string>{"gone.txt", "mod.py", "new.txt"});
}

TEST_CASE("outside a git work tree the exact in-process apply does the same") {
  PatchFixture f;
  fs::remove_all(f.dir + "/.git");
  auto r = apply_patch(f.dir, f.patch);
  CHECK(r.applied);
  CHECK(r.strategy == "exact");
  CHECK(f.mod() == f.patched);
  CHECK(f.patched_tree());
}

TEST_CASE("a hunk whose lines moved up applies with the offset strategy") {
  PatchFixture f;
  f.rewrite(numbered(6, 40));  // five lines fewer above the hunk: git apply looks forward only
  auto r = apply_patch(f.dir, f.patch);
  CHECK(r.applied);
  CHECK(r.strategy == "offset");
  CHECK(f.mod() == numbered(6, 19) + "line twenty\nline 20.5\n" + numbered(21, 40));
  CHECK(r.log.find("git apply: ") == 0);
}

TEST_CASE("context that differs only in whitespace applies with the whitespace strategy") {
  PatchFixture f;
  std::string text = f.original;
  text.replace(text.find("line 19\n"), 8, "line   19  \n");
  f.rewrite(text);
  auto r = apply_patch(f.dir, f.patch);
  CHECK(r.applied);
  CHECK(r.strategy == "whitespace");
  CHECK(f.mod().find("line   19  \nline twenty\nline 20.5\nline 21\n") != std::string::npos);  // the file's context kept
}

TEST_CASE("context changed at a hunk's edge applies with fuzz") {
  PatchFixture f;
  std::string text = f.original;
  text.replace(text.find("line 17\n"), 8, "something else\n");
  f.rewrite(text);
  auto r = apply_patch(f.dir, f.patch);
  CHECK(r.applied);
  CHECK(r.strategy == "fuzz 1");
  CHECK(f.mod().find("something else\nline 18\nline 19\nline twenty\n") != std::string::npos);
  CHECK(f.patched_tree());
}

TEST_CASE("a patch that does not apply changes nothing and says why") {
  PatchFixture f;
  std::string text = f.original;
  text.replace(text.find("line 20\n"), 8, "line 20 was rewritten\n");
  f.rewrite(text);
  auto r = apply_patch(f.dir, f.patch, 2);
  CHECK(!r.applied);
  CHECK(!r.already_applied);
  CHECK(f.mod() == text);
  CHECK(!fs::exists(f.dir + "/new.txt"));  // all or nothing: the new file was not written
  CHECK(fs::exists(f.dir + "/gone.txt"));
  CHECK(r.log.find("fuzz 2: mod.py: hunk 1") != std::string::npos);
}

TEST_CASE("a patch applied twice is reported as already applied") {
  PatchFixture f;
  REQUIRE(apply_patch(f.dir, f.patch).applied);
  auto again = apply_patch(f.dir, f.patch);
  CHECK(!again.applied);
  CHECK(again.already_applied);
  CHECK(again.strategy == "already applied");
  CHECK(f.mod() == f.patched);
}

TEST_CASE("text that is not a patch is a clear error") {
  PatchFixture f;
  CHECK_THROWS_WITH_AS(apply_patch(f.dir, ""), doctest::Contains("empty"), PatchError);
  CHECK_THROWS_WITH_AS(apply_patch(f.dir, "please fix the bug\n"), doctest::Contains("not a git-style unified diff"),
                       PatchError);
  CHECK(patch_files(f.patch) == std::vector<std::string>{"gone.txt", "mod.py", "new.txt"});
}

TEST_CASE("a patch naming a path outside the tree is refused before anything is written") {
  PatchFixture f;
  fs::remove_all(f.dir + "/.git");  // the in-process applier joins the paths to the directory
  auto new_file = [](const std::string& path) {
    return "diff --git a/" + path + " b/" + path + "\nnew file mode 100644\n--- /dev/null\n+++ b/" + path +
           "\n@@ -0,0 +1 @@\n+pwned\n";
  };
  for (const std::string& path : {std::string("../escape.txt"), std::string("sub/../../escape.txt")}) {
    CAPTURE(path);
    CHECK_THROWS_WITH_AS(apply_patch(f.dir, new_file(path)), doctest::Contains("not inside the tree"), PatchError);
    CHECK_THROWS_AS(patch_files(new_file(path)), PatchError);
    CHECK(!fs::exists(f.tmp.path + "/escape.txt"));
  }
  // "b//abs/path": libgit2 drops the leading '/', so the file lands inside the tree.
  std::string absolute = f.tmp.path + "/escape.txt";
  ApplyResult r = apply_patch(f.dir, new_file(absolute));
  CHECK(r.applied);
  CHECK(!fs::exists(absolute));
  CHECK(fs::exists(f.dir + absolute));
}

TEST_CASE("a patch holding a NUL byte is refused, not handed to libgit2") {
  // libgit2 1.5 reads past its buffer on such a hunk line (fuzz/corpus/patch_apply/crash-*).
  PatchFixture f;
  std::string patch = f.patch;
  patch.insert(patch.find("+line twenty") + 1, std::string("\0", 1));
  CHECK_THROWS_WITH_AS(apply_patch(f.dir, patch), doctest::Contains("NUL"), PatchError);
  CHECK(f.mod() == f.original);
}

TEST_CASE("a header line repeated in one file diff is refused, in the real patch position and in a rename") {
  // libgit2 1.5 leaks on such text when the parse then fails (fuzz/corpus/patch_apply/leak-*).
  PatchFixture f;
  std::string patch = f.patch;
  size_t at = patch.find("--- ");
  REQUIRE(at != std::string::npos);
  patch.insert(at, "old mode 100644\nnew mode 100755\nold mode 100644\n");
  CHECK_THROWS_WITH_AS(apply_patch(f.dir, patch), doctest::Contains("repeats the header line \"old mode"), PatchError);
  CHECK(f.mod() == f.original);
  CHECK_THROWS_AS(patch_files("diff --git a 2\nsimilarity index 1%\nrename from r\nrename to /\nsimilarity index 0%\n"
                              "rename from / \n"),
                  PatchError);
  // Once each is fine, in two file diffs too.
  CHECK_NOTHROW(patch_files("diff --git a/x b/y\nsimilarity index 100%\nrename from x\nrename to y\n"
                            "diff --git a/z b/w\nsimilarity index 100%\nrename from z\nrename to w\n"));
}

// The shell chain, run with bash on a host work tree as it would run inside a sandbox.
namespace {
ApplyResult run_script(PatchFixture& f, const std::string& patch) {
  write_file(f.tmp.path + "/patch.diff", patch);
  write_file(f.tmp.path + "/apply.sh", apply_patch_script(f.tmp.path + "/patch.diff", f.dir));
  auto out = sh("bash " + f.tmp.path + "/apply.sh", f.tmp.path);
  auto r = parse_apply_script_output(out.out);
  CHECK((out.status == 0) == (r.applied || r.already_applied));
  return r;
}
}  // namespace

TEST_CASE("the sandbox script applies a clean patch with git apply --verbose") {
  PatchFixture f;
  auto r = run_script(f, f.patch);
  CHECK(r.applied);
  CHECK(r.strategy == "git apply --verbose");
  CHECK(f.patched_tree());
}

TEST_CASE("the sandbox script falls back to --3way when the patch's blobs are known") {
  PatchFixture f;
  std::string text = f.original;
  text.replace(text.find("line 22\n"), 8, "line 22 changed by someone else\n");
  f.rewrite(text);
  sh("git commit -qam 'nearby change'", f.dir);
  auto r = run_script(f, f.patch);
  CHECK(r.applied);
  CHECK(r.strategy == "git apply --verbose --3way");
  CHECK(f.mod().find("line twenty\nline 20.5\nline 21\nline 22 changed by someone else\n") != std::string::npos);
}

TEST_CASE("the sandbox script falls back to patch --fuzz=5 and leaves the agent's other work alone") {
  PatchFixture f;
  std::string text = f.original;
  text.replace(text.find("line 17\n"), 8, "something else\n");
  f.rewrite(text);
  write_file(f.dir + "/agent_notes.txt", "untracked work\n");
  // No index line: git apply --3way has no blobs to merge with.
  std::string patch = f.patch;
  size_t at;
  while ((at = patch.find("\nindex ")) != std::string::npos) patch.erase(at + 1, patch.find('\n', at + 1) - at);
  auto r = run_script(f, patch);
  CHECK(r.applied);
  CHECK(r.strategy == "patch --batch --forward --fuzz=5 -p1");
  CHECK(f.patched_tree());
  CHECK(read_file(f.dir + "/agent_notes.txt") == "untracked work\n");
}

TEST_CASE("the sandbox script reports already applied and failed patches, restoring the touched files") {
  PatchFixture f;
  REQUIRE(run_script(f, f.patch).applied);
  auto again = run_script(f, f.patch);
  CHECK(again.already_applied);
  CHECK(!again.applied);
  CHECK(f.patched_tree());

  PatchFixture g;
  std::string text = g.original;
  text.replace(text.find("line 20\n"), 8, "line 20 was rewritten\n");
  text.replace(text.find("line 19\n"), 8, "line 19 too\n");
  text.replace(text.find("line 21\n"), 8, "line 21 too\n");
  g.rewrite(text);
  write_file(g.dir + "/agent_notes.txt", "untracked work\n");
  auto r = run_script(g, g.patch);
  CHECK(!r.applied);
  CHECK(!r.already_applied);
  CHECK(r.log.find(">>>>> Patch Apply Failed") != std::string::npos);
  CHECK(g.mod() == text);  // the agent's edit of mod.py survives the resets
  CHECK(fs::exists(g.dir + "/gone.txt"));
  CHECK(!fs::exists(g.dir + "/new.txt"));
  CHECK(!fs::exists(g.dir + "/mod.py.rej"));
  CHECK(read_file(g.dir + "/agent_notes.txt") == "untracked work\n");
}
