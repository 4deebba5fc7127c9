#include <doctest/doctest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <thread>

#include "sandbox/sandbox.h"
#include "tasks/repository.h"
#include "tasks/suite.h"
#include "tasks/workspace_cache.h"
#include "tests/tasks/git_fixture.h"

using namespace swebox::tasks;
using namespace swebox::tasks::testing;
namespace fs = std::filesystem;

namespace {
// Trees in the cache belong to the sandbox's identity; the git CLI (as root) must be told they are fine.
const std::string kGit = "git -c safe.directory='*' ";

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}
}  // namespace

TEST_CASE("an unknown repository is an error naming the expected path") {
  TempDir tmp;
  WorkspaceCache cache(tmp.path + "/repos", tmp.path + "/cache");
  try {
    cache.base_tree("nobody/nothing", std::string(40, 'a'));
    FAIL("expected a RepositoryError");
  } catch (const RepositoryError& e) {
    CHECK(std::string(e.what()).find(tmp.path + "/repos/nobody__nothing") != std::string::npos);
  }
}

TEST_CASE("a missing base commit is an error naming the commit and the repository and suggesting a fetch") {
  TempDir tmp;
  make_fixture_repo(tmp.path + "/repos");
  WorkspaceCache cache(tmp.path + "/repos", tmp.path + "/cache");
  std::string missing = "0123456789abcdef0123456789abcdef01234567";
  try {
    cache.base_tree("acme/widget", missing);
    FAIL("expected a RepositoryError");
  } catch (const RepositoryError& e) {
    std::string what = e.what();
    CHECK(what.find(missing) != std::string::npos);
    CHECK(what.find("acme__widget") != std::string::npos);
    CHECK(what.find("fetch") != std::string::npos);
  }
  CHECK(!fs::exists(cache.tree_path("acme/widget", missing)));
}

TEST_CASE("the base tree is a clean checkout of the base commit on branch main, owned by the sandbox identity") {
  TempDir tmp;
  auto repo = make_fixture_repo(tmp.path + "/repos");
  WorkspaceCache cache(tmp.path + "/repos", tmp.path + "/cache");
  Instance inst;
  inst.repo = "acme/widget";
  inst.base_commit = repo.base_commit.substr(0, 10);  // abbreviated ids resolve too
  std::string tree = cache.base_tree(inst);
  CHECK(tree == tmp.path + "/cache/acme__widget/" + repo.base_commit);

  CHECK(sh(kGit + "status --porcelain --untracked-files=all", tree).out == "");
  CHECK(sh(kGit + "rev-parse HEAD", tree).out == repo.base_commit + "\n");
  CHECK(sh(kGit + "symbolic-ref HEAD", tree).out == "refs/heads/main\n");
  CHECK(read_file(tree + "/src/widget.py").find("2 * w + h") != std::string::npos);
  CHECK(read_file(tree + "/.git/shallow") == repo.base_commit + "\n");
  CHECK(sh(kGit + "fsck --no-progress", tree).status == 0);

  struct stat st;
  REQUIRE(stat((tree + "/src/widget.py").c_str(), &st) == 0);
  if (geteuid() == 0) {
    auto owner = swebox::sandbox::workspace_lower_owner();
    CHECK(st.st_uid == owner.uid);
    CHECK(st.st_gid == owner.gid);
    REQUIRE(stat((tree + "/.git/index").c_str(), &st) == 0);
    CHECK(st.st_uid == owner.uid);
  } else {
    MESSAGE("not root: the tree keeps the caller's ownership");
  }
}

TEST_CASE("a second request for the same base commit is a cache hit costing milliseconds") {
  TempDir tmp;
  auto repo = make_fixture_repo(tmp.path + "/repos");
  WorkspaceCache cache(tmp.path + "/repos", tmp.path + "/cache");
  auto t0 = std::chrono::steady_clock::now();
  std::string first = cache.base_tree("acme/widget", repo.base_commit);
  double build_s = seconds_since(t0);
  write_file(first + "/.marker", "same tree");  // a rebuild would lose it
  t0 = std::chrono::steady_clock::now();
  std::string second = cache.base_tree("acme/widget", repo.base_commit);
  double hit_s = seconds_since(t0);
  MESSAGE("first (build) " << build_s * 1e3 << " ms, second (hit) " << hit_s * 1e3 << " ms");
  CHECK(second == first);
  CHECK(fs::exists(second + "/.marker"));
  CHECK(hit_s < 0.005);
  // A fresh cache object over the same directory hits too (the cache is the directory).
  WorkspaceCache again(tmp.path + "/repos", tmp.path + "/cache");
  CHECK(again.base_tree("acme/widget", repo.base_commit) == first);
  CHECK(fs::exists(first + "/.marker"));
}

TEST_CASE("concurrent materialisation of one base commit builds it once and leaves no temp dirs") {
  TempDir tmp;
  auto repo = make_fixture_repo(tmp.path + "/repos");
  // What a builder killed halfway leaves behind.
  write_file(tmp.path + "/cache/acme__widget/.tmp-" + repo.base_commit + "-99999-0/half/written", "x");
  std::vector<std::string> paths(6);
  std::vector<std::string> errors(6);
  std::vector<std::thread> threads;
  for (int i = 0; i < 6; ++i)
    threads.emplace_back([&, i] {
      try {
        WorkspaceCache cache(tmp.path + "/repos", tmp.path + "/cache");  // one per thread, as separate jobs would
        paths[i] = cache.base_tree("acme/widget", repo.base_commit);
      } catch (const std::exception& e) {
        errors[i] = e.what();
      }
    });
  for (auto& t : threads) t.join();
  for (int i = 0; i < 6; ++i) {
    CHECK(errors[i] == "");
    CHECK(paths[i] == paths[0]);
  }
  int entries = 0;
  for (const auto& e : fs::directory_iterator(tmp.path + "/cache/acme__widget")) {
    ++entries;
    CHECK(e.path().filename().string().rfind(".tmp-", 0) != 0);
  }
  CHECK(entries == 2);  // the tree and its lock file
  CHECK(sh(kGit + "status --porcelain", paths[0]).out == "");
  CHECK(sh(kGit + "fsck --no-progress", paths[0]).status == 0);
}

TEST_CASE("repositories may be bare or symlinks, and the ancestors option keeps the base's past") {
  TempDir tmp;
  auto repo = make_fixture_repo(tmp.path + "/elsewhere", "real", /*bare=*/true);
  fs::create_directories(tmp.path + "/repos");
  fs::create_directory_symlink(repo.path, tmp.path + "/repos/acme__widget");
  WorkspaceCache full(tmp.path + "/repos", tmp.path + "/cache", History::ancestors);
  std::string tree = full.base_tree("acme/widget", repo.base_commit);
  CHECK(tree == tmp.path + "/cache/acme__widget/" + repo.base_commit + "+ancestors");
  CHECK(!fs::exists(tree + "/.git/shallow"));
  CHECK(sh(kGit + "log --format=%s", tree).out == "add perimeter\ninitial\n");
  CHECK(sh(kGit + "log --all --format=%H", tree).out.find(repo.gold_commit) == std::string::npos);
  CHECK(sh(kGit + "status --porcelain", tree).out == "");
  CHECK(history_leaks(tree, repo.base_commit).empty());
}

TEST_CASE("the real sympy__sympy-24661 base commit materialises, and the second call is a cache hit") {
  std::string repos = "/work/repos";
  std::string suite = std::string(SWEBOX_SHARED_DIR) + "/data/swebench/verified.test.jsonl";
  if (!fs::exists(repos + "/sympy__sympy") || !fs::exists(suite)) {
    MESSAGE("skipped: needs " << repos << "/sympy__sympy (a fetched repository) and " << suite);
    return;
  }
  auto insts = filter_instances(load_suite(suite).instances, {"sympy__sympy-24661"});
  REQUIRE(insts.size() == 1);
  TempDir tmp;
  WorkspaceCache cache(repos, tmp.path);
  auto t0 = std::chrono::steady_clock::now();
  std::string tree = cache.base_tree(insts[0]);
  double build_s = seconds_since(t0);
  t0 = std::chrono::steady_clock::now();
  CHECK(cache.base_tree(insts[0]) == tree);
  double hit_s = seconds_since(t0);
  MESSAGE("sympy__sympy-24661: first " << build_s << " s, second " << hit_s * 1e3 << " ms");
  CHECK(hit_s < 0.005);
  CHECK(sh(kGit + "status --porcelain", tree).out == "");
  CHECK(sh(kGit + "log --all --oneline | wc -l", tree).out == "1\n");
}
