// The environment table's "supported"/"why", the per-instance readiness report, and the real table's
// coverage of every repository of SWE-bench Verified and Lite.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <string>

#include <nlohmann/json.hpp>

#include "tasks/environment.h"
#include "tasks/environment_report.h"
#include "tasks/log_parsers.h"
#include "tasks/suite.h"

namespace fs = std::filesystem;
using namespace swebox::tasks;

namespace {

EnvironmentTable readiness_table() {
  return EnvironmentTable::parse(nlohmann::json::parse(R"({
    "defaults": {"apt": ["python3"]},
    "repos": {
      "o/ready": [{"versions": ["*"], "apt": ["python3"]}],
      "o/absent": [{"versions": ["*"], "apt": ["python3", "swebox-test-no-such-package"]}],
      "o/old": [
        {"versions": ["2.*"]},
        {"versions": ["*"], "supported": false, "why": "needs Python 2"}
      ]
    }
  })"),
                                 "readiness-table");
}

Instance instance(const std::string& id, const std::string& repo, const std::string& version) {
  Instance i;
  i.instance_id = id;
  i.repo = repo;
  i.version = version;
  return i;
}

}  // namespace

TEST_CASE("an entry with supported false needs a why, and resolves to a version that cannot run here") {
  auto table = readiness_table();
  Environment old = table.resolve("o/old", "1.4");
  CHECK(old.known);
  CHECK_FALSE(old.supported);
  CHECK(old.why == "needs Python 2");
  CHECK(environment_unsupported(old) == "o/old 1.4 is not supported here: needs Python 2");
  Environment newer = table.resolve("o/old", "2.1");
  CHECK(newer.supported);
  CHECK(environment_unsupported(newer).empty());

  auto bad = nlohmann::json::parse(R"({"repos": {"o/x": [{"versions": ["*"], "supported": false}]}})");
  CHECK_THROWS_WITH_AS(EnvironmentTable::parse(bad, "t"), doctest::Contains("needs a 'why'"), std::runtime_error);
  auto not_bool = nlohmann::json::parse(R"({"repos": {"o/x": [{"versions": ["*"], "supported": "no", "why": "x"}]}})");
  CHECK_THROWS_WITH_AS(EnvironmentTable::parse(not_bool, "t"), doctest::Contains("supported must be true or false"),
                       std::runtime_error);
}

TEST_CASE("the readiness report says per repository and version what will run, and why not") {
  auto table = readiness_table();
  std::vector<Instance> instances = {instance("o__ready-1", "o/ready", "1.0"), instance("o__ready-2", "o/ready", "1.0"),
                                     instance("o__absent-1", "o/absent", "1.0"), instance("o__old-1", "o/old", "1.4"),
                                     instance("o__new-1", "o/new", "0.1")};
  auto assessed = assess_environments(instances, table);
  REQUIRE(assessed.size() == 5);
  CHECK(assessed[0].readiness == EnvironmentReadiness::ready);
  CHECK(assessed[2].readiness == EnvironmentReadiness::missing_packages);
  CHECK(assessed[2].missing_packages == std::vector<std::string>{"swebox-test-no-such-package"});
  CHECK(assessed[3].readiness == EnvironmentReadiness::not_supported);
  CHECK(assessed[3].detail == "needs Python 2");
  CHECK(assessed[4].readiness == EnvironmentReadiness::no_entry);
  CHECK_FALSE(all_ready(assessed));
  CHECK(all_ready({assessed[0], assessed[1]}));

  std::string text = environment_report_text(assessed, 1);
  INFO(text);
  CHECK(text.find("5 instance(s): 2 ready, 1 missing Debian packages, 1 not supported here, 1 with no entry") == 0);
  CHECK(text.find("ready            o/ready 1.0, 2 instances [o__ready-1 and 1 more]") != std::string::npos);
  CHECK(text.find("swebox-test-no-such-package") != std::string::npos);
  CHECK(text.find("not supported    o/old 1.4, 1 instance: needs Python 2 [o__old-1]") != std::string::npos);
  CHECK(text.find("no entry         o/new 0.1") != std::string::npos);
}

TEST_CASE("the environment table has an entry for every repository and version of SWE-bench Verified and Lite") {
  fs::path data = fs::path(SWEBOX_SHARED_DIR) / "data" / "swebench";
  if (!fs::exists(data / "verified.test.jsonl") || !fs::exists(data / "lite.test.jsonl")) {
    MESSAGE("skipped: the SWE-bench data is not at " << data.string());
    return;
  }
  auto table = EnvironmentTable::load(EnvironmentTable::default_path());
  std::set<std::string> repos;
  for (const char* file : {"verified.test.jsonl", "lite.test.jsonl"}) {
    SuiteLoad suite = load_suite((data / file).string());
    CHECK(suite.errors.empty());
    for (const Instance& inst : suite.instances) {
      CAPTURE(inst.instance_id);
      repos.insert(inst.repo);
      Environment env = table.resolve(inst.repo, inst.version);
      CHECK(env.known);
      if (!env.supported) CHECK(!env.why.empty());
      // The table's parser is SWE-bench's for the repository (the instances name it too).
      CHECK(env.log_parser == parser_for_repo(inst.repo));
      if (!inst.log_parser.empty()) CHECK(env.log_parser == inst.log_parser);
    }
  }
  CHECK(repos == std::set<std::string>{"astropy/astropy", "django/django", "matplotlib/matplotlib", "mwaskom/seaborn",
                                       "pallets/flask", "psf/requests", "pydata/xarray", "pylint-dev/pylint",
                                       "pytest-dev/pytest", "scikit-learn/scikit-learn", "sphinx-doc/sphinx",
                                       "sympy/sympy"});
}
