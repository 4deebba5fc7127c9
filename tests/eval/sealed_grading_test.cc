// Sealed grading without a sandbox: which changed paths are test infrastructure, how setup.cfg and
// pyproject.toml changes are split, the JUnit report's keys, and the sealed eval script.
#include <doctest/doctest.h>

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "tasks/environment.h"
#include "tasks/junit_report.h"
#include "tasks/test_infrastructure.h"
#include "tasks/test_spec.h"

using namespace swebox::tasks;

namespace {

InfrastructureContext calc_context() {
  InfrastructureContext ctx;
  ctx.test_patch_files = {"tests/test_ops.py"};
  ctx.test_commands = {"pytest -rA tests/test_ops.py"};
  ctx.outside_modules = {"os", "json", "random", "pytest", "_pytest", "pluggy", "requests"};
  ctx.base_has_file = [](const std::string& p) { return p == "calc/__init__.py" || p == "calc/ops.py"; };
  return ctx;
}

std::optional<InfrastructureReason> why(const std::string& path, TreeChange::Kind kind = TreeChange::Kind::added,
                                        const InfrastructureContext& ctx = calc_context()) {
  TreeChange c;
  c.path = path;
  c.kind = kind;
  return infrastructure_reason(c, ctx);
}

std::string run_bash(const std::string& script, int* status) {
  auto dir = std::filesystem::temp_directory_path() / ("swebox-sealed-" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "eval.sh") << script;
  std::string cmd = "cd " + dir.string() + " && bash eval.sh > log.txt 2>&1";
  int st = std::system(cmd.c_str());
  *status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  std::ifstream in(dir / "log.txt");
  std::string log((std::istreambuf_iterator<char>(in)), {});
  std::filesystem::remove_all(dir);
  return log;
}

}  // namespace

TEST_CASE("test infrastructure: every rule names its reason, and product code is left alone") {
  using K = TreeChange::Kind;
  // Product code, changed or added, is judged.
  CHECK_FALSE(why("calc/ops.py", K::modified));
  CHECK_FALSE(why("calc/helpers.py"));
  CHECK_FALSE(why("README.md", K::modified));
  CHECK_FALSE(why("calc/random.py"));  // inside a package: calc.random, not random
  // conftest anywhere, pytest/tox/nose configuration.
  CHECK(why("conftest.py")->why.find("conftest.py") != std::string::npos);
  CHECK(why("calc/deep/conftest.py", K::modified));
  for (const char* f : {"pytest.ini", "tox.ini", ".noserc", "sub/pytest.ini", ".pytest.ini"})
    CHECK_MESSAGE(why(f), f);
  // Start-up hooks and package metadata.
  CHECK(why("sitecustomize.py")->why.find("start-up") != std::string::npos);
  CHECK(why("calc/usercustomize.py"));
  CHECK(why("evil.pth")->why.find(".pth") != std::string::npos);
  CHECK(why("src/evil-1.0.dist-info/entry_points.txt")->why.find("entry points") != std::string::npos);
  CHECK(why("x.egg-info/entry_points.txt"));
  // Bytecode and git metadata.
  CHECK(why("calc/__pycache__/ops.cpython-311.pyc")->why.find("bytecode") != std::string::npos);
  CHECK(why("calc/ops.pyc"));
  CHECK(why(".git/config", K::modified));
  CHECK(why("vendored/.GIT/hooks/x"));
  // Test files: the test patch's, its directory's, and test-named ones anywhere; deleting counts.
  auto t = why("tests/test_ops.py", K::deleted);
  REQUIRE(t);
  CHECK(t->test_file);
  CHECK(why("tests/__init__.py")->test_file);
  CHECK(why("tests/helpers/data.txt")->test_file);
  CHECK(why("calc/test_hack.py")->test_file);
  CHECK(why("calc/hack_test.py")->test_file);
  CHECK(why("pkg/testing/runner.py")->test_file);
  // Shadowing: a new top-level module named like an outside one, not inside a package.
  CHECK(why("pytest.py")->why.find("'pytest'") != std::string::npos);
  CHECK(why("json/__init__.py")->why.find("'json'") != std::string::npos);
  CHECK(why("src/requests.py"));
  CHECK(why("site.py"));
  CHECK_FALSE(why("calc/json.py"));                    // calc.json
  CHECK_FALSE(why("pytest.py", K::modified));          // a tracked module is the product's own
  // A program named like one the tests run.
  CHECK(why("bin/python")->why.find("program") != std::string::npos);
  CHECK(why("pytest"));
  // Symlinks and nested repositories.
  TreeChange link;
  link.path = "calc/ops2.py";
  link.symlink = true;
  CHECK(infrastructure_reason(link, calc_context())->why.find("symbolic link") != std::string::npos);
  TreeChange nested;
  nested.path = "vendor/lib";
  nested.directory = true;
  CHECK(infrastructure_reason(nested, calc_context()));
}

TEST_CASE("test infrastructure: the test command's program and the table's globs (sympy's bin/test)") {
  InfrastructureContext ctx;
  ctx.test_patch_files = {"sympy/geometry/tests/test_point.py"};
  ctx.test_commands = {"PYTHONWARNINGS='ignore::UserWarning,ignore::SyntaxWarning' bin/test -C --verbose sympy/geometry/tests/test_point.py"};
  ctx.test_infra_globs = {"sympy/utilities/runtests.py", "bin/*"};
  auto w = why("bin/test", TreeChange::Kind::modified, ctx);
  REQUIRE(w);
  CHECK(w->why.find("bin/test") != std::string::npos);
  CHECK(why("sympy/utilities/runtests.py", TreeChange::Kind::modified, ctx));
  CHECK(why("bin/isympy", TreeChange::Kind::modified, ctx));
  CHECK(why("sympy/geometry/tests/test_new.py", TreeChange::Kind::added, ctx)->test_file);
  CHECK_FALSE(why("sympy/geometry/point.py", TreeChange::Kind::modified, ctx));
  // Django-style: ./tests/runtests.py, and `python script.py`.
  InfrastructureContext dj;
  dj.test_commands = {"./tests/runtests.py --verbosity 2 x", "python3 scripts/run_tests.py -q"};
  CHECK(why("scripts/run_tests.py", TreeChange::Kind::modified, dj));
  CHECK(why("tests/runtests.py", TreeChange::Kind::modified, dj));
  CHECK_FALSE(why("django/db/models/query.py", TreeChange::Kind::modified, dj));
}

TEST_CASE("setup.cfg: only the test sections' change is stripped when the rest is separable") {
  std::string base = "[metadata]\nname = calc\n\n[tool:pytest]\naddopts = -q\n\n[flake8]\nmax-line-length = 100\n";
  // Only metadata changed: kept whole.
  auto meta = split_config_change("setup.cfg", base, "[metadata]\nname = calc2\n\n[tool:pytest]\naddopts = -q\n\n[flake8]\nmax-line-length = 100\n");
  CHECK(meta.outcome == ConfigSplit::Outcome::no_test_change);
  // Both changed: the test section goes back, the rest stays.
  auto both = split_config_change(
      "setup.cfg", base,
      "[metadata]\nname = calc2\n\n[tool:pytest]\naddopts = -p calc.evil\n\n[flake8]\nmax-line-length = 120\n");
  REQUIRE(both.outcome == ConfigSplit::Outcome::test_sections);
  CHECK(both.merged == "[metadata]\nname = calc2\n\n[tool:pytest]\naddopts = -q\n\n[flake8]\nmax-line-length = 120\n");
  // A test section added: the headers differ, so the whole file's change goes.
  auto added = split_config_change("setup.cfg", "[metadata]\nname = calc\n", "[metadata]\nname = calc\n[pytest]\naddopts = -p x\n");
  CHECK(added.outcome == ConfigSplit::Outcome::whole_file);
  // A new setup.cfg with a test section, and one without.
  CHECK(split_config_change("setup.cfg", "", "[tool:pytest]\naddopts = -p x\n").outcome == ConfigSplit::Outcome::whole_file);
  CHECK(split_config_change("setup.cfg", "", "[metadata]\nname = x\n").outcome == ConfigSplit::Outcome::no_test_change);
  // A line elsewhere that names pytest (a plugin entry point) makes the split unsafe.
  auto entry = split_config_change("setup.cfg", base,
                                   "[metadata]\nname = calc\npytest11 = evil = calc.evil\n\n[tool:pytest]\naddopts = -q\n\n[flake8]\nmax-line-length = 100\n");
  CHECK(entry.outcome == ConfigSplit::Outcome::whole_file);
  // Deleting a file with test sections resets it.
  CHECK(split_config_change("setup.cfg", base, "").outcome == ConfigSplit::Outcome::whole_file);
}

TEST_CASE("pyproject.toml: test tables put back, and strings or brackets that could swallow them reset the file") {
  std::string base = "[project]\nname = \"calc\"\ndependencies = []\n\n[tool.pytest.ini_options]\naddopts = \"-q\"\n";
  auto deps = split_config_change("pyproject.toml", base,
                                  "[project]\nname = \"calc\"\ndependencies = [\"attrs\"]\n\n[tool.pytest.ini_options]\naddopts = \"-q -p evil\"\n");
  REQUIRE(deps.outcome == ConfigSplit::Outcome::test_sections);
  CHECK(deps.merged == "[project]\nname = \"calc\"\ndependencies = [\"attrs\"]\n\n[tool.pytest.ini_options]\naddopts = \"-q\"\n");
  // A triple-quoted string opened before the pytest table would make it part of a string.
  auto swallow = split_config_change("pyproject.toml", base,
                                     "[project]\nname = \"calc\"\ndependencies = []\ndescription = \"\"\"\n\n[tool.pytest.ini_options]\naddopts = \"-q\"\n");
  CHECK(swallow.outcome == ConfigSplit::Outcome::whole_file);
  auto bracket = split_config_change("pyproject.toml", base,
                                     "[project]\nname = \"calc\"\ndependencies = [\n\n[tool.pytest.ini_options]\naddopts = \"-q\"\n");
  CHECK(bracket.outcome == ConfigSplit::Outcome::whole_file);
  // Dotted keys outside the table.
  auto dotted = split_config_change("pyproject.toml", base,
                                    "tool.pytest.ini_options.addopts = \"-p evil\"\n[project]\nname = \"calc\"\ndependencies = []\n\n[tool.pytest.ini_options]\naddopts = \"-q\"\n");
  CHECK(dotted.outcome == ConfigSplit::Outcome::whole_file);
  CHECK(is_sectioned_config("pyproject.toml"));
  CHECK(is_sectioned_config("sub/setup.cfg"));
  CHECK_FALSE(is_sectioned_config("tox.ini"));
}

TEST_CASE("JUnit report: pytest's keys, xfail, the worse outcome of a case listed twice, truncated ids") {
  CHECK(junit_key("tests/test_ops.py::test_add") == "tests.test_ops.test_add");
  CHECK(junit_key("tests/test_x.py::TestA::test_b[a/b::c]") == "tests.test_x.TestA.test_b[a/b::c]");
  CHECK(junit_key("testing/test_mark.py::TestA::()::test_b") == "testing.test_mark.TestA.test_b");
  const char* xml = R"(<?xml version="1.0" encoding="utf-8"?><testsuites><testsuite name="pytest">
<testcase classname="tests.test_ops" name="test_add" time="0.001" />
<testcase classname="tests.test_ops" name="test_mul_negative" time="0.001"><failure message="assert 0 == -12">x</failure></testcase>
<testcase classname="tests.test_ops" name="test_x" time="0.001"><skipped type="pytest.xfail" message="known" /></testcase>
<testcase classname="tests.test_ops" name="test_s" time="0.001"><skipped type="pytest.skip" message="no" /></testcase>
<testcase classname="tests.test_ops" name="test_t" time="0.001"></testcase>
<testcase classname="tests.test_ops" name="test_t" time="0.001"><error message="teardown">e</error></testcase>
<testcase classname="tests.test_w" name="test_p[a b]" time="0.001" />
<testcase classname="tests.test_w" name="test_p[a c]" time="0.001" />
</testsuite></testsuites>)";
  StatusMap report = read_junit_report(xml);
  CHECK(report.at("tests.test_ops.test_add") == TestStatus::passed);
  CHECK(report.at("tests.test_ops.test_mul_negative") == TestStatus::failed);
  CHECK(report.at("tests.test_ops.test_x") == TestStatus::xfail);
  CHECK(report.at("tests.test_ops.test_s") == TestStatus::skipped);
  CHECK(report.at("tests.test_ops.test_t") == TestStatus::error);
  StatusMap listed = junit_status_of(report, {"tests/test_ops.py::test_add", "tests/test_ops.py::test_mul_negative",
                                              "tests/test_ops.py::test_gone", "tests/test_w.py::test_p[a"});
  CHECK(listed.at("tests/test_ops.py::test_add") == TestStatus::passed);
  CHECK(listed.at("tests/test_ops.py::test_mul_negative") == TestStatus::failed);
  CHECK(listed.count("tests/test_ops.py::test_gone") == 0);
  CHECK(listed.at("tests/test_w.py::test_p[a") == TestStatus::passed);
  CHECK(is_pytest_parser("parse_log_pytest"));
  CHECK(is_pytest_parser("parse_log_flask"));
  CHECK_FALSE(is_pytest_parser("parse_log_sympy"));
  CHECK_FALSE(is_pytest_parser("parse_log_django"));
}

TEST_CASE("plain pytest commands take a --junitxml option and nothing else does") {
  CHECK(is_plain_pytest_command("pytest -rA tests/test_ops.py"));
  CHECK(is_plain_pytest_command("pytest --no-header -rA --tb=no -p no:cacheprovider testing/test_mark.py"));
  CHECK(is_plain_pytest_command("PYTHONWARNINGS=ignore python -m pytest -rA 'tests/test_x.py::test[a b]'"));
  CHECK(is_plain_pytest_command("python3.11 -m pytest tests"));
  CHECK_FALSE(is_plain_pytest_command("pytest -rA tests; echo PASSED"));
  CHECK_FALSE(is_plain_pytest_command("pytest -rA $(cat list)"));
  CHECK_FALSE(is_plain_pytest_command("pytest -rA tests > out.txt"));
  CHECK_FALSE(is_plain_pytest_command("bin/test -C --verbose sympy/x.py"));
  CHECK_FALSE(is_plain_pytest_command("./tests/runtests.py --parallel 1"));
  CHECK_FALSE(is_plain_pytest_command("pytest -rA tests # comment"));
}

TEST_CASE("the sealed eval script purges bytecode, asks for JUnit, and stops when the test patch fails") {
  Environment env;
  env.path = "/usr/bin:/bin";
  std::string script =
      "#!/bin/bash\nset -uxo pipefail\ncd /tmp\ngit checkout 1111 tests/test_a.py\n"
      "git apply -v - <<'EOF_114329324912'\nnot a patch\nEOF_114329324912\n"
      ": '>>>>> Start Test Output'\npytest -rA tests/test_a.py\n: '>>>>> End Test Output'\n"
      "git checkout 1111 tests/test_a.py\n";
  EvalScriptOptions sealed;
  sealed.sealed = true;
  sealed.junit_path = "/tmp/.swebox-judge-x/junit.xml";
  TestSpec spec;
  std::string adapted = adapt_eval_script(script, env, nullptr, sealed, &spec);
  CHECK(adapted.find("export PYTHONDONTWRITEBYTECODE=1") != std::string::npos);
  CHECK(adapted.find("-name __pycache__") != std::string::npos);
  CHECK(adapted.find("pytest -rA tests/test_a.py --junitxml='/tmp/.swebox-judge-x/junit.xml'") != std::string::npos);
  CHECK(spec.junit);
  CHECK(spec.test_commands == std::vector<std::string>{"pytest -rA tests/test_a.py"});
  // The check follows the heredoc's end and the reset before the tests, not the reset after them.
  size_t heredoc_end = adapted.find("\nEOF_114329324912\n");
  REQUIRE(heredoc_end != std::string::npos);
  CHECK(adapted.find(kSealedSetupFailed, heredoc_end) < adapted.find(">>>>> Start Test Output"));
  size_t end_marker = adapted.find(": '>>>>> End Test Output'");
  CHECK(adapted.find(kSealedSetupFailed, end_marker) == std::string::npos);

  // Run with bash: outside a git repository, the reset fails first, and the script stops there
  // with its status and marker (the test command never runs).
  int status = 0;
  std::string log = run_bash(adapted, &status);
  CHECK(status == kSealedSetupFailedStatus);
  CHECK(log.find(std::string(kSealedSetupFailed) + " (status ") != std::string::npos);
  CHECK(log.find("Start Test Output") == std::string::npos);
  CHECK(log.find("_swebox") == std::string::npos);

  // swebench mode: the same script is left to go on (SWE-bench's `set -uxo pipefail` without -e).
  EvalScriptOptions plain;
  plain.junit_path = sealed.junit_path;
  TestSpec plain_spec;
  std::string unsealed = adapt_eval_script(script, env, nullptr, plain, &plain_spec);
  CHECK(unsealed.find(kSealedSetupFailed) == std::string::npos);
  CHECK(unsealed.find("PYTHONDONTWRITEBYTECODE") == std::string::npos);
  CHECK(plain_spec.junit);
  // Without a JUnit path, the test command is as it was (the script SWE-bench mode ran before).
  std::string bare = adapt_eval_script(script, env);
  CHECK(bare.find("--junitxml") == std::string::npos);
  CHECK(bare.find("\npytest -rA tests/test_a.py\n") != std::string::npos);
}
