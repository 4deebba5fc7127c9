// The eval script and the environment table, without a sandbox: what is kept, dropped and added.
#include <doctest/doctest.h>

#include <sys/wait.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "tasks/environment.h"
#include "tasks/test_spec.h"

using namespace swebox::tasks;

namespace {

const char* kTestPatch =
    "diff --git a/tests/test_a.py b/tests/test_a.py\n"
    "--- a/tests/test_a.py\n"
    "+++ b/tests/test_a.py\n"
    "@@ -1,1 +1,2 @@\n"
    " python -m pip install -e .\n"
    "+conda activate testbed\n"
    "diff --git a/tests/new_test.py b/tests/new_test.py\n"
    "new file mode 100644\n"
    "--- /dev/null\n"
    "+++ b/tests/new_test.py\n"
    "@@ -0,0 +1 @@\n"
    "+x = 1\n"
    "diff --git a/tests/data.json b/tests/data.json\n"
    "--- a/tests/data.json\n"
    "+++ b/tests/data.json\n"
    "@@ -1 +1 @@\n"
    "-{}\n"
    "+[]\n";

EnvironmentTable test_table() {
  return EnvironmentTable::parse(nlohmann::json::parse(R"({
    "defaults": {"apt": ["python3"], "env": {"HOME": "/tmp"}, "test_cmd": "pytest -rA",
                 "exclude_extensions": [".json", ".md"]},
    "repos": {
      "o/lib": [
        {"versions": ["2.*"], "env": {"PYTHONPATH": "/testbed/src"}, "apt": ["python3", "python3-zzz"],
         "files": {"src/lib/_version.py": "version = '{version}'\n"}},
        {"versions": ["*"], "test_cmd": "bin/test -C --verbose"}
      ],
      "django/django": [{"versions": ["*"], "directives": "django", "test_cmd": "./tests/runtests.py"}]
    }
  })"),
                                 "test-table");
}

Instance make_instance(const std::string& repo, const std::string& version) {
  Instance i;
  i.repo = repo;
  i.instance_id = "o__lib-1";
  i.base_commit = "1111111111111111111111111111111111111111";
  i.version = version;
  i.test_patch = kTestPatch;
  return i;
}

}  // namespace

TEST_CASE("environment table merges defaults with the first entry whose version matches") {
  auto table = test_table();
  Environment v2 = table.resolve("o/lib", "2.3");
  CHECK(v2.known);
  CHECK(v2.test_cmd == "pytest -rA");
  CHECK(v2.apt == std::vector<std::string>{"python3", "python3-zzz"});
  REQUIRE(v2.env.size() == 2);
  CHECK(v2.env[0] == std::pair<std::string, std::string>{"HOME", "/tmp"});
  CHECK(v2.env[1] == std::pair<std::string, std::string>{"PYTHONPATH", "/testbed/src"});
  REQUIRE(v2.files.size() == 1);
  CHECK(v2.files[0].second == "version = '2.3'\n");

  Environment v1 = table.resolve("o/lib", "1.0");
  CHECK(v1.known);
  CHECK(v1.test_cmd == "bin/test -C --verbose");
  CHECK(v1.files.empty());

  Environment other = table.resolve("x/unknown", "1.0");
  CHECK_FALSE(other.known);
  CHECK(other.interpreter == "/usr/bin/python3");
}

TEST_CASE("environment table errors name the file and the entry") {
  CHECK_THROWS_WITH_AS(EnvironmentTable::parse(nlohmann::json::parse(R"({"repos": {"a/b": [{"apt": []}]}})"), "T.json"),
                       doctest::Contains("T.json: repos.a/b[0] needs 'versions'"), std::runtime_error);
  CHECK_THROWS_WITH_AS(EnvironmentTable::load("/nonexistent/table.json"),
                       doctest::Contains("/nonexistent/table.json"), std::runtime_error);
}

TEST_CASE("the shipped environment table loads and knows the fixture and real repositories") {
  auto table = EnvironmentTable::load(std::string(SWEBOX_SOURCE_DIR) + "/tasks/environments.json");
  for (const char* repo : {"swebox-fixtures/calc", "swebox-fixtures/textkit", "sympy/sympy", "pallets/flask",
                           "pytest-dev/pytest", "django/django"})
    CHECK_MESSAGE(table.resolve(repo, "1.0").known, repo);
  CHECK(table.resolve("sympy/sympy", "1.12").log_parser == "parse_log_sympy");
  auto pytest_env = table.resolve("pytest-dev/pytest", "7.2");
  REQUIRE(pytest_env.files.size() == 1);
  CHECK(pytest_env.files[0].first == "src/_pytest/_version.py");
  CHECK(pytest_env.files[0].second.find("'7.2.0'") != std::string::npos);
}

TEST_CASE("missing packages are the ones dpkg does not list as installed") {
  auto missing = missing_packages({"swebox-no-such-package-xyz", "dpkg"});
  CHECK(missing == std::vector<std::string>{"swebox-no-such-package-xyz"});
  Environment env;
  env.apt = {"swebox-no-such-package-xyz"};
  env.interpreter = "/usr/bin/python3";
  CHECK(environment_problem(env) == "environment missing Debian package swebox-no-such-package-xyz");
  env.apt = {"dpkg"};
  CHECK(environment_problem(env).empty());
}

TEST_CASE("test files and directives come from test_patch as SWE-bench reads them") {
  auto table = test_table();
  CHECK(modified_test_files(kTestPatch) == std::vector<std::string>{"tests/test_a.py", "tests/data.json"});
  CHECK(test_directives(kTestPatch, table.resolve("o/lib", "1.0")) ==
        std::vector<std::string>{"tests/test_a.py", "tests/new_test.py"});
  std::string django_patch = "diff --git a/tests/model_fields/test_jsonfield.py b/tests/model_fields/test_jsonfield.py\n";
  CHECK(test_directives(django_patch, table.resolve("django/django", "4.0")) ==
        std::vector<std::string>{"model_fields.test_jsonfield"});
}

TEST_CASE("an instance's eval script loses conda and pip but keeps the heredoc, markers and resets") {
  auto table = test_table();
  Environment env = table.resolve("o/lib", "2.0");
  std::string script =
      "#!/bin/bash\n"
      "set -uxo pipefail\n"
      "source /opt/miniconda3/bin/activate\n"
      "conda activate testbed\n"
      "cd /testbed\n"
      "python -m pip install -e .\n"
      "git checkout 1111111111111111111111111111111111111111 tests/test_a.py\n"
      "git apply -v - <<'EOF_114329324912'\n" +
      std::string(kTestPatch) +
      "\nEOF_114329324912\n"
      ": '>>>>> Start Test Output'\n"
      "pytest -rA tests/test_a.py\n"
      ": '>>>>> End Test Output'\n"
      "git checkout 1111111111111111111111111111111111111111 tests/test_a.py\n";
  std::vector<std::string> dropped;
  std::string out = adapt_eval_script(script, env, &dropped);
  CHECK(dropped == std::vector<std::string>{"source /opt/miniconda3/bin/activate", "conda activate testbed",
                                            "python -m pip install -e ."});
  CHECK(out.rfind("#!/bin/bash\n", 0) == 0);
  CHECK(out.find("\nset -uxo pipefail\n") != std::string::npos);
  CHECK(out.find("\nsource /opt") == std::string::npos);
  CHECK(out.find("\nconda activate") == std::string::npos);
  // The heredoc body is data: its lines that look like conda/pip stay as they are.
  CHECK(out.find("\n python -m pip install -e .\n+conda activate testbed\n") != std::string::npos);
  CHECK(out.find("export PYTHONPATH='/testbed/src'\n") != std::string::npos);
  CHECK(out.find("export PATH=/tmp/.swebox-bin:") != std::string::npos);
  CHECK(out.find("cat > 'src/lib/_version.py' <<'EOF_SWEBOX_GENERATED_FILE'\nversion = '2.0'\nEOF_SWEBOX_GENERATED_FILE\n") !=
        std::string::npos);
  // The generated file is written where the install step was, before the test files are touched.
  CHECK(out.find("_version.py") < out.find("git checkout 1111"));
  CHECK(out.find(": '>>>>> Start Test Output'\n") < out.find("pytest -rA tests/test_a.py\n"));
  CHECK(out.find("pytest -rA tests/test_a.py\n") < out.find(": '>>>>> End Test Output'\n"));
  CHECK(out.find("echo \">>>>> Test Exit Code: $_swebox_rc\"") > out.find(": '>>>>> End Test Output'\n"));
  CHECK(out.rfind("git checkout 1111111111111111111111111111111111111111 tests/test_a.py\n") >
        out.find(">>>>> Test Exit Code"));
}

TEST_CASE("an instance without eval_script gets SWE-bench's script from the table's test command") {
  auto table = test_table();
  Instance inst = make_instance("o/lib", "1.0");
  TestSpec spec = make_test_spec(inst, table.resolve("o/lib", "1.0"));
  CHECK(spec.origin == "built from the environment table");
  CHECK(spec.log_parser == "parse_log_pytest");
  CHECK(spec.eval_script.find("\nbin/test -C --verbose tests/test_a.py tests/new_test.py\n") != std::string::npos);
  CHECK(spec.eval_script.find("\ngit checkout 1111111111111111111111111111111111111111 tests/test_a.py tests/data.json\n") !=
        std::string::npos);
  CHECK(spec.eval_script.find("<<'EOF_114329324912'\n" + std::string(kTestPatch) + "\nEOF_114329324912\n") !=
        std::string::npos);
  // SWE-bench's activation (twice, as SWE-bench writes it) and install step, replaced for this host.
  CHECK(spec.dropped_lines == std::vector<std::string>{"source /opt/miniconda3/bin/activate", "conda activate testbed",
                                                       "source /opt/miniconda3/bin/activate", "conda activate testbed",
                                                       "python -m pip install -e ."});
}

TEST_CASE("the adapted script reports the test command's exit code and time, untraced") {
  // Run the markers' part of an adapted script with the host's bash: the exit code line must carry
  // the test command's status and the timing file must hold two increasing times.
  auto table = test_table();
  Environment env = table.resolve("o/lib", "1.0");
  env.interpreter.clear();
  std::string script = "#!/bin/bash\nset -uxo pipefail\n: '>>>>> Start Test Output'\nsh -c 'exit 7'\n"
                       ": '>>>>> End Test Output'\n";
  std::string adapted = adapt_eval_script(script, env);
  auto dir = std::filesystem::temp_directory_path() / ("swebox-spec-" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "eval.sh") << adapted;
  std::string cmd = "cd " + dir.string() + " && bash eval.sh > log.txt 2>&1";
  REQUIRE(std::system(cmd.c_str()) != -1);
  std::ifstream in(dir / "log.txt");
  std::string log((std::istreambuf_iterator<char>(in)), {});
  CHECK(log.find("\n>>>>> Test Exit Code: 7\n") != std::string::npos);
  CHECK(log.find("+ sh -c 'exit 7'") != std::string::npos);
  CHECK(log.find("_swebox") == std::string::npos);  // the harness's own lines are not traced
  std::ifstream t(kTestTimeFile);
  double t0 = 0, t1 = 0;
  t >> t0 >> t1;
  CHECK(t0 > 0);
  CHECK(t1 >= t0);
  std::remove(kTestTimeFile);
  std::filesystem::remove_all(dir);
}
