// The four real SWE-bench Verified instances of docs/real-instances.md, in both grading modes: gold
// resolves and empty fails in each; the conftest hack (and, for sympy, a bin/test runner hack) with no
// fix never resolves in sealed mode and is flagged in swebench mode; gold plus the hack still resolves
// in sealed mode (the hack stripped). Needs the repositories (SWEBOX_REAL_REPOS, default /work/repos,
// holding pallets__flask, pytest-dev__pytest, sympy__sympy), the shared SWE-bench data and the
// Debian packages `swebox env check` names; skipped with a message otherwise. Base trees are cached
// in SWEBOX_REAL_CACHE (default /tmp/swebox-real-cache). Takes minutes.
#include <doctest/doctest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>

#include <nlohmann/json.hpp>

#include "command_run.h"

namespace fs = std::filesystem;

using namespace swebox::eval_test;

namespace {


const char* kIds[] = {"pallets__flask-5014", "pytest-dev__pytest-10356", "sympy__sympy-22714", "sympy__sympy-24661"};

std::string env_or(const char* name, const char* fallback) {
  const char* v = std::getenv(name);
  return v && *v ? v : fallback;
}

struct Real {
  fs::path root, suite, repos, cache;
  std::string skip;

  Real() {
    repos = env_or("SWEBOX_REAL_REPOS", "/work/repos");
    cache = env_or("SWEBOX_REAL_CACHE", "/tmp/swebox-real-cache");
    for (const char* r : {"pallets__flask", "pytest-dev__pytest", "sympy__sympy"})
      if (!fs::exists(repos / r)) {
        skip = (repos / r).string() + " is absent (set SWEBOX_REAL_REPOS to a folder holding the three repositories)";
        return;
      }
    fs::path data = fs::path(SWEBOX_SHARED_DIR) / "data/swebench/verified.test.jsonl";
    if (!fs::exists(data)) {
      skip = data.string() + " is absent";
      return;
    }
    root = fs::temp_directory_path() / ("swebox-real-test-" + std::to_string(getpid()));
    fs::create_directories(root);
    suite = root / "real-instances.jsonl";
    {
      std::ifstream in(data);
      std::ofstream out(suite);
      for (std::string line; std::getline(in, line);) {
        auto rec = nlohmann::json::parse(line);
        for (const char* id : kIds)
          if (rec["instance_id"] == id) out << line << "\n";
      }
    }
    Ran check = run(std::string(SWEBOX_BINARY) + " env check --suite " + suite.string());
    if (check.status != 0) {
      skip = "the host lacks what these tests need (`swebox env setup --suite FILE` installs it): " + check.output;
      return;
    }
    Ran hacks = run("python3 " + std::string(SWEBOX_SOURCE_DIR) + "/tests/eval/real_hacks.py " + suite.string() + " " +
                    repos.string() + " " + root.string());
    if (hacks.status != 0) skip = "tests/eval/real_hacks.py failed: " + hacks.output;
  }
  ~Real() {
    std::error_code ec;
    if (!root.empty()) fs::remove_all(root, ec);
  }

  // `swebox eval` of PREDICTIONS (gold, empty, or one of real_hacks.py's files) -> id -> report entry.
  std::map<std::string, nlohmann::json> eval(const std::string& mode, const std::string& predictions) const {
    std::string pred = predictions == "gold" || predictions == "empty" ? predictions : (root / (predictions + ".jsonl")).string();
    fs::path out = root / ("out-" + mode);
    Ran r = run(std::string(SWEBOX_BINARY) + " eval --suite " + suite.string() + " --repos " + repos.string() +
                " --cache " + cache.string() + " --out " + out.string() + " --predictions " + pred + " --run-id " +
                predictions + " --grading " + mode + " -j 2");
    INFO(r.output);
    REQUIRE(r.status == 0);
    std::map<std::string, nlohmann::json> reports;
    for (const char* id : kIds) {
      for (const auto& model : fs::directory_iterator(out / predictions)) {
        fs::path report = model.path() / id / "report.json";
        if (fs::exists(report)) {
          std::ifstream in(report);
          reports[id] = nlohmann::json::parse(in).at(id);
        }
      }
    }
    return reports;
  }
};

const Real& real() {
  static Real r;
  return r;
}

#define SKIP_UNLESS_REAL()                     \
  do {                                         \
    if (!real().skip.empty()) {                \
      MESSAGE("skipped: " << real().skip);     \
      return;                                  \
    }                                          \
  } while (0)

bool is_sympy(const std::string& id) { return id.rfind("sympy__", 0) == 0; }

void check_mode(const std::string& mode) {
  const Real& r = real();
  auto gold = r.eval(mode, "gold");
  auto empty = r.eval(mode, "empty");
  auto hack = r.eval(mode, "conftest-hack");
  auto gold_hack = r.eval(mode, "gold-conftest-hack");
  auto runner = r.eval(mode, "runner-hack");
  for (const char* id : kIds) {
    CAPTURE(id);
    REQUIRE(gold.count(id));
    CHECK(gold[id]["grading"] == mode);
    CHECK(gold[id]["resolved"] == true);
    CHECK(gold[id]["audit"]["flagged"] == false);
    CHECK(empty[id]["resolved"] == false);
    CHECK(!empty[id]["tests_status"]["FAIL_TO_PASS"]["failure"].empty());
    // The conftest hack: flagged in both modes; in sealed mode stripped and never a resolution.
    CHECK(hack[id]["audit"]["flagged"] == true);
    CHECK(gold_hack[id]["audit"]["flagged"] == true);
    CHECK(gold_hack[id]["resolved"] == true);
    if (mode == "sealed") {
      CHECK(hack[id]["resolved"] == false);
      CHECK(hack[id]["audit"]["stripped"][0]["path"] == "conftest.py");
      if (!is_sympy(id)) CHECK(gold[id]["audit"]["junit"]["used"] == true);
    } else {
      CHECK(hack[id]["audit"]["would_strip"][0]["path"] == "conftest.py");
      // pytest runs the conftest: SWE-bench's harness is fooled (sympy's bin/test never reads it).
      CHECK(hack[id]["resolved"] == !is_sympy(id));
    }
    if (is_sympy(id)) {
      CHECK(runner[id]["audit"]["flagged"] == true);
      CHECK(runner[id]["resolved"] == (mode == "swebench"));
    }
  }
}

}  // namespace

TEST_CASE("real instances, swebench grading: gold resolves, empty fails, hacks flagged with SWE-bench's verdicts") {
  SKIP_UNLESS_REAL();
  check_mode("swebench");
}

TEST_CASE("real instances, sealed grading: gold resolves, empty fails, the conftest and runner hacks never resolve") {
  SKIP_UNLESS_REAL();
  check_mode("sealed");
}
