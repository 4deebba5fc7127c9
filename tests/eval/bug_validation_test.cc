// SSR's seven consistency checks (tasks/bug_validation.h), run for real in the sandbox on a small
// repository: one deliberately broken artifact per check, each rejected by that check with its own
// reason, and a correct one accepted and made into an instance.
#include <doctest/doctest.h>

#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <filesystem>
#include <fstream>

#include "command_run.h"
#include "sandbox/sandbox.h"
#include "tasks/bug_instance.h"
#include "tasks/bug_validation.h"
#include "tasks/environment.h"
#include "tasks/procedural_bugs.h"

using namespace swebox::tasks;
using swebox::eval_test::run;
namespace fs = std::filesystem;

namespace {

const char* kMakeRepo = R"SH(set -e
mkdir -p "$1/calc" "$1/tests" && cd "$1"
cat > calc/__init__.py <<'EOF'
EOF
cat > calc/ops.py <<'EOF'
def add(a, b):
    return a + b


def sub(a, b):
    return a - b


def mul(a, b):
    return a * b
EOF
cat > calc/util.py <<'EOF'
def unused(x):
    return x
EOF
cat > tests/test_ops.py <<'EOF'
from calc.ops import add, sub, mul


def test_add():
    assert add(2, 3) == 5


def test_sub():
    assert sub(5, 3) == 2


def test_mul():
    assert mul(2, 3) == 6


def test_add_zero():
    assert add(0, 0) == 0


def test_sub_zero():
    assert sub(0, 0) == 0


def test_mul_one():
    assert mul(1, 7) == 7
EOF
cat > tests/test_other.py <<'EOF'
def test_truth():
    assert True
EOF
git init -q -b main . && git add -A
GIT_AUTHOR_NAME=t GIT_AUTHOR_EMAIL=t@t GIT_COMMITTER_NAME=t GIT_COMMITTER_EMAIL=t@t git commit -qm init
)SH";

const std::string kBugAdd =
    "diff --git a/calc/ops.py b/calc/ops.py\n--- a/calc/ops.py\n+++ b/calc/ops.py\n@@ -1,5 +1,5 @@\n def add(a, b):\n"
    "-    return a + b\n+    return a - b\n \n \n def sub(a, b):\n";
const std::string kBugUnused =
    "diff --git a/calc/util.py b/calc/util.py\n--- a/calc/util.py\n+++ b/calc/util.py\n@@ -1,2 +1,2 @@\n def unused(x):\n"
    "-    return x\n+    return x + 1\n";
const std::string kBugInTests =
    "diff --git a/tests/test_other.py b/tests/test_other.py\n--- a/tests/test_other.py\n+++ b/tests/test_other.py\n"
    "@@ -1,2 +1,2 @@\n def test_truth():\n-    assert True\n+    assert False\n";
// Removes test_add (and only it).
const std::string kWeakenAdd =
    "diff --git a/tests/test_ops.py b/tests/test_ops.py\n--- a/tests/test_ops.py\n+++ b/tests/test_ops.py\n"
    "@@ -1,9 +1,5 @@\n from calc.ops import add, sub, mul\n \n \n-def test_add():\n-    assert add(2, 3) == 5\n-\n-\n def test_sub():\n"
    "     assert sub(5, 3) == 2\n \n";
// Removes test_mul: hides nothing of kBugAdd.
const std::string kWeakenMul =
    "diff --git a/tests/test_ops.py b/tests/test_ops.py\n--- a/tests/test_ops.py\n+++ b/tests/test_ops.py\n"
    "@@ -8,10 +8,6 @@ def test_sub():\n     assert sub(5, 3) == 2\n \n \n-def test_mul():\n-    assert mul(2, 3) == 6\n-\n-\n"
    " def test_add_zero():\n     assert add(0, 0) == 0\n \n";
const std::string kWeakenOther =
    "diff --git a/tests/test_other.py b/tests/test_other.py\n--- a/tests/test_other.py\n+++ b/tests/test_other.py\n"
    "@@ -1,2 +1,2 @@\n def test_truth():\n-    assert True\n+    assert 1\n";

struct Fixture {
  fs::path root = fs::temp_directory_path() / ("swebox-bugval-" + std::to_string(getpid()));
  std::string skip;
  std::unique_ptr<BugTestRunner> runner;
  std::string commit;
  Fixture() {
    fs::create_directories(root / "repos");
    std::ofstream(root / "make.sh") << kMakeRepo;
    auto made = run("bash " + (root / "make.sh").string() + " " + (root / "repos" / "fixture__ssr").string() + " 2>&1");
    if (made.status != 0) {
      skip = "could not make the fixture repository: " + made.output;
      return;
    }
    commit = run("git -C " + (root / "repos" / "fixture__ssr").string() + " rev-parse HEAD").output.substr(0, 40);
    try {
      swebox::sandbox::start_native_backend();
      BugTestRunner::Options o;
      o.repos_dir = (root / "repos").string();
      o.cache_dir = (root / "cache").string();
      o.repo = "fixture/ssr";
      o.original_commit = commit;
      o.script_timeout_s = 60;
      o.environment = EnvironmentTable::load(EnvironmentTable::default_path()).resolve("fixture/ssr", "selfplay");
      runner = std::make_unique<BugTestRunner>(o);
    } catch (const std::exception& e) {
      skip = std::string("the native sandbox or the workspace cache is not available here: ") + e.what();
    }
  }
  ~Fixture() {
    std::error_code ec;
    fs::remove_all(root, ec);
  }
  BugArtifact good() const {
    BugArtifact a = pytest_artifact({"tests/test_ops.py", "tests/test_other.py"}, kBugAdd);
    a.weaken_diff = kWeakenAdd;
    return a;
  }
  BugValidation validate(const BugArtifact& a, BugValidationOptions o = {}) {
    return validate_bug_artifact(a, *runner, o, [&](const std::string& p) {
      return fs::is_regular_file(fs::path(runner->original_tree()) / p);
    });
  }
};

Fixture& fixture() {
  static Fixture f;
  return f;
}

#define SKIP_UNLESS_READY()                                  \
  do {                                                       \
    if (!fixture().skip.empty()) {                           \
      MESSAGE("skipped: " << fixture().skip);                \
      return;                                                \
    }                                                        \
  } while (0)

void check_rejected(const BugValidation& v, BugCheck check, const std::string& words) {
  INFO("reason: " << v.reason << " infra: " << v.infra_reason);
  CHECK_FALSE(v.infra_failure);
  CHECK_FALSE(v.valid);
  REQUIRE(v.rejection.has_value());
  CHECK(to_string(*v.rejection) == std::string(to_string(check)));
  CHECK(v.reason.find(words) != std::string::npos);
  CHECK(v.checks[static_cast<int>(check)].status == "failed");
  for (int i = static_cast<int>(check) + 1; i < kBugCheckCount; ++i)
    if (!(check == BugCheck::parser && i == static_cast<int>(BugCheck::changed_files))) CHECK(v.checks[i].status == "not run");
}

}  // namespace

TEST_CASE("bug validation accepts a correct artifact and makes it an instance") {
  SKIP_UNLESS_READY();
  BugValidation v = fixture().validate(fixture().good());
  INFO("reason: " << v.reason << " infra: " << v.infra_reason);
  REQUIRE(v.valid);
  for (const auto& c : v.checks) CHECK(c.status == "passed");
  CHECK(v.fail_to_pass == std::vector<std::string>{"tests/test_ops.py::test_add"});
  CHECK(v.pass_to_pass.size() == 6);
  BugInstanceSpec spec;
  spec.repository_path = (fixture().root / "repos" / "fixture__ssr").string();
  spec.repo = "fixture/ssr";
  spec.original_commit = fixture().commit;
  spec.bug_id = "ssr-test";
  spec.problem_template = "spec:\n{test_patch}";
  Instance inst = make_bug_instance(spec, fixture().good(), v);
  CHECK(inst.instance_id == "fixture__ssr-ssr-test");
  CHECK(inst.base_commit != fixture().commit);
  CHECK(inst.patch.find("+    return a + b") != std::string::npos);      // the bug reversed
  CHECK(inst.test_patch.find("+def test_add():") != std::string::npos);  // the weakening reversed
  CHECK(inst.problem_statement.rfind("spec:\n", 0) == 0);
  CHECK(inst.problem_statement.find("+def test_add():") != std::string::npos);
  CHECK(inst.FAIL_TO_PASS == v.fail_to_pass);
  // The buggy commit is a root commit: nothing of the original's history comes with it.
  auto parents = run("git -C " + spec.repository_path + " rev-list --parents -n 1 " + inst.base_commit);
  CHECK(parents.output.substr(0, 40) == inst.base_commit);
  CHECK(parents.output.find(' ') == std::string::npos);
}

TEST_CASE("bug validation check 1 rejects a weakening of a file test_files.txt does not list") {
  SKIP_UNLESS_READY();
  BugArtifact a = fixture().good();
  a.test_files = {"tests/test_ops.py"};
  a.weaken_diff = kWeakenAdd + kWeakenOther;
  check_rejected(fixture().validate(a), BugCheck::test_files, "tests/test_other.py");
  a.test_files = {"tests/test_ops.py", "tests/test_gone.py"};
  a.weaken_diff = kWeakenAdd;
  check_rejected(fixture().validate(a), BugCheck::test_files, "does not exist");
  a.test_files = {"tests/../../etc/passwd"};
  check_rejected(fixture().validate(a), BugCheck::test_files, "not a path in the repository");
}

TEST_CASE("bug validation check 2 rejects a parser that does not yield passed or failed") {
  SKIP_UNLESS_READY();
  BugArtifact a = fixture().good();
  a.test_parser = "import sys\nsys.stdin.read()\nprint('all good')\n";
  check_rejected(fixture().validate(a), BugCheck::parser, "not JSON");
  a.test_parser = "import json, sys\nsys.stdin.read()\nprint(json.dumps({'t': 'maybe'}))\n";
  check_rejected(fixture().validate(a), BugCheck::parser, "neither passed nor failed");
}

TEST_CASE("bug validation check 3 rejects a test script that passes too few tests on the original") {
  SKIP_UNLESS_READY();
  BugArtifact a = fixture().good();
  a.test_script = "cd /testbed\nPYTHONPATH=/testbed python3 -m pytest -rA -p no:cacheprovider tests/test_ops.py -k 'test_add'\n";
  check_rejected(fixture().validate(a), BugCheck::original_passing, "fewer than 5");
}

TEST_CASE("bug validation check 4 rejects a bug in a test file or in too few files") {
  SKIP_UNLESS_READY();
  BugArtifact a = fixture().good();
  a.bug_diff = kBugInTests;
  check_rejected(fixture().validate(a), BugCheck::changed_files, "test file tests/test_other.py");
  a.bug_diff = kBugAdd;
  BugValidationOptions two;
  two.min_changed_files = 2;
  check_rejected(fixture().validate(a, two), BugCheck::changed_files, "fewer than 2");
}

TEST_CASE("bug validation check 5 rejects a bug that breaks no passing test") {
  SKIP_UNLESS_READY();
  BugArtifact a = fixture().good();
  a.bug_diff = kBugUnused;
  check_rejected(fixture().validate(a), BugCheck::bug_breaks_tests, "fewer than 1");
}

TEST_CASE("bug validation check 6 rejects a weakening that hides none of the broken tests") {
  SKIP_UNLESS_READY();
  BugArtifact a = fixture().good();
  a.weaken_diff = kWeakenMul;
  check_rejected(fixture().validate(a), BugCheck::weakening_hides, "none of the 1 tests");
}

TEST_CASE("bug validation check 7 rejects a bug file whose revert alone fixes nothing") {
  SKIP_UNLESS_READY();
  BugArtifact a = fixture().good();
  a.bug_diff = kBugAdd + kBugUnused;
  check_rejected(fixture().validate(a), BugCheck::inverse_mutation, "reverting calc/util.py alone");
}

TEST_CASE("bug validation caches runs by content, a revert of every bug file being the original") {
  SKIP_UNLESS_READY();
  REQUIRE(fixture().validate(fixture().good()).valid);
  size_t before = fixture().runner->runs_done();
  // The same content again (a fresh copy): every state, the original included, and the bug's single
  // file reverted (which is the original), comes from the cache.
  BugArtifact a = fixture().good();
  BugValidation again = fixture().validate(a);
  CHECK(again.valid);
  CHECK(fixture().runner->runs_done() == before);
  CHECK(again.cached_runs == again.test_runs);
}
