// `swebox validate` and `swebox env check` end to end: the real binary on the fixture suite (real
// git repositories made by scripts/make-fixture-suite.sh, the real sandbox, real pytest), the
// validated suite and the verdicts read back from disk.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <string>

#include <nlohmann/json.hpp>

#include "command_run.h"
#include "fixture_suite.h"

namespace fs = std::filesystem;
using namespace swebox::eval_test;

namespace {

struct ValidateFixture : FixtureSuite {
  ValidateFixture() : FixtureSuite("swebox-validate-test-") {
    if (std::filesystem::exists(bad_suite())) write_extra_suite();  // env check needs no sandbox
  }

  // The bad suite plus two cases only validation tells apart: a version the table marks as not
  // supported (calc 8.8), and a FAIL_TO_PASS test that already passes at the base commit.
  void write_extra_suite() {
    std::ifstream in(fixtures / "bad-suite.jsonl");
    std::ofstream out(bad_suite_plus());
    nlohmann::json calc1;
    for (std::string line; std::getline(in, line);) {
      out << line << "\n";
      if (line.find("\"swebox-fixtures__calc-1\"") != std::string::npos) calc1 = nlohmann::json::parse(line);
    }
    nlohmann::json unsupported = calc1;
    unsupported["instance_id"] = "swebox-fixtures__calc-unsupported";
    unsupported["version"] = "8.8";
    nlohmann::json passes = calc1;
    passes["instance_id"] = "swebox-fixtures__calc-f2p-passes";
    passes["FAIL_TO_PASS"] = R"(["tests/test_ops.py::test_add"])";
    passes["PASS_TO_PASS"] = R"(["tests/test_ops.py::test_sub"])";
    out << unsupported.dump() << "\n" << passes.dump() << "\n";
  }

  Ran validate(const std::string& out, const std::string& args) const {
    return run(std::string(SWEBOX_BINARY) + " validate --repos " + (fixtures / "repos").string() + " --cache " +
               cache.string() + " --out " + (root / out).string() + " " + args);
  }
  fs::path bad_suite_plus() const { return root / "bad-suite-plus.jsonl"; }
};

const ValidateFixture& fixture() {
  static ValidateFixture f;
  return f;
}


std::vector<std::string> lines_of(const fs::path& p) {
  std::vector<std::string> out;
  std::ifstream in(p);
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) out.push_back(line);
  return out;
}

}  // namespace

TEST_CASE("swebox validate keeps every good fixture instance: gold resolves, empty fails, exit 0") {
  SKIP_UNLESS_READY();
  const auto& f = fixture();
  Ran r = f.validate("good", "--suite " + f.suite().string() + " -j 2 --timeout 120");
  INFO(r.output);
  REQUIRE(r.status == 0);
  CHECK(r.output.find("3 of 3 instance(s) validated") != std::string::npos);
  auto validated = lines_of(f.root / "good" / "validated.jsonl");
  REQUIRE(validated.size() == 3);
  // The suite's own records, byte for byte as JSON values.
  auto suite = lines_of(f.suite());
  for (size_t i = 0; i < 3; ++i) CHECK(nlohmann::json::parse(validated[i]) == nlohmann::json::parse(suite[i]));
  nlohmann::json summary = read_json(f.root / "good" / "validation.json");
  CHECK(summary["validated_instances"] == 3);
  CHECK(summary["verdicts"]["validated"] == 3);
  for (const auto& inst : summary["instances"]) {
    CHECK(inst["validated"] == true);
    CHECK(inst["gold"].get<std::string>().rfind("resolved (F2P 1/1", 0) == 0);
    CHECK(inst["empty"].get<std::string>().rfind("unresolved (F2P 0/1", 0) == 0);
  }
  // The evaluations are laid out as `swebox eval --out` lays them out, and a rerun reuses them.
  CHECK(fs::exists(f.root / "good" / "gold" / "gold" / "swebox-fixtures__calc-1" / "report.json"));
  CHECK(fs::exists(f.root / "good" / "empty" / "empty" / "swebox-fixtures__calc-1" / "report.json"));
  Ran again = f.validate("good", "--suite " + f.suite().string() + " --instances swebox-fixtures__calc-2");
  INFO(again.output);
  CHECK(again.status == 0);
  CHECK(again.output.find("reported before") != std::string::npos);
  CHECK(lines_of(f.root / "good" / "validated.jsonl").size() == 1);
}

TEST_CASE("swebox validate on the bad suite keeps only what validates and says why for each of the rest, exit 3") {
  SKIP_UNLESS_READY();
  const auto& f = fixture();
  Ran r = f.validate("bad", "--suite " + f.bad_suite_plus().string() + " -j 2 --timeout 8");
  INFO(r.output);
  REQUIRE(r.status == 3);
  auto validated = lines_of(f.root / "bad" / "validated.jsonl");
  REQUIRE(validated.size() == 1);
  CHECK(nlohmann::json::parse(validated[0])["instance_id"] == "swebox-fixtures__calc-1");

  nlohmann::json summary = read_json(f.root / "bad" / "validation.json");
  std::map<std::string, nlohmann::json> by_id;
  for (const auto& inst : summary["instances"]) by_id[inst["instance_id"]] = inst;
  auto verdict = [&](const char* id) { return by_id.at(id)["verdict"].get<std::string>(); };
  auto reason = [&](const char* id) { return by_id.at(id)["reason"].get<std::string>(); };
  CHECK(by_id.size() == 9);

  CHECK(verdict("swebox-fixtures__calc-1") == "validated");
  CHECK(reason("swebox-fixtures__calc-1").empty());

  CHECK(verdict("swebox-fixtures__nope-1") == "no environment");
  CHECK(reason("swebox-fixtures__nope-1").find("no environment for swebox-fixtures/nope 1.0") != std::string::npos);
  CHECK(by_id["swebox-fixtures__nope-1"]["gold"] == "not run");

  CHECK(verdict("swebox-fixtures__calc-missing-commit") == "infra failure");
  CHECK(reason("swebox-fixtures__calc-missing-commit").find("gold: ") == 0);
  CHECK(reason("swebox-fixtures__calc-missing-commit").find("0123456789abcdef") != std::string::npos);

  CHECK(verdict("swebox-fixtures__calc-patch-conflict") == "gold not resolved");
  CHECK(reason("swebox-fixtures__calc-patch-conflict") == "the gold patch does not apply");

  CHECK(verdict("swebox-fixtures__calc-hang") == "gold not resolved");
  CHECK(reason("swebox-fixtures__calc-hang") ==
        "with the gold patch, the log could not be graded: Timeout error: 8 seconds exceeded");
  CHECK(by_id["swebox-fixtures__calc-hang"]["gold"] == "ungradeable");
  CHECK(by_id["swebox-fixtures__calc-hang"]["empty"] == "unresolved (no test results)");

  CHECK(verdict("swebox-fixtures__calc-malformed-log") == "gold not resolved");
  CHECK(reason("swebox-fixtures__calc-malformed-log").find("the log could not be graded") != std::string::npos);

  CHECK(verdict("swebox-fixtures__calc-env-missing") == "environment not ready");
  CHECK(reason("swebox-fixtures__calc-env-missing").find("swebox-fixture-absent-package") != std::string::npos);

  CHECK(verdict("swebox-fixtures__calc-unsupported") == "environment not supported");
  CHECK(reason("swebox-fixtures__calc-unsupported") ==
        "swebox-fixtures/calc 8.8 is not supported here: fixture: a version this table marks as not supported here");

  CHECK(verdict("swebox-fixtures__calc-f2p-passes") == "empty passes F2P");
  CHECK(reason("swebox-fixtures__calc-f2p-passes") ==
        "with the empty patch 1 of 1 FAIL_TO_PASS pass: tests/test_ops.py::test_add");

  CHECK(summary["validated_instances"] == 1);
  CHECK(summary["suite_errors"].size() == 1);  // the malformed line, named and skipped
  // The printed table names each instance with its verdict.
  CHECK(r.output.find("1 of 9 instance(s) validated") != std::string::npos);
  CHECK(r.output.find("empty passes F2P: with the empty patch 1 of 1") != std::string::npos);
}

TEST_CASE("swebox validate: exit 1 when it cannot start, 2 on a usage error") {
  SKIP_UNLESS_READY();
  const auto& f = fixture();
  Ran unknown = f.validate("unknown", "--suite " + f.suite().string() + " --instances swebox-fixtures__nothing-1");
  CHECK(unknown.status == 1);
  CHECK(unknown.output.find("unknown instance swebox-fixtures__nothing-1") != std::string::npos);
  Ran no_suite = f.validate("nosuite", "--suite " + (f.root / "absent.jsonl").string());
  CHECK(no_suite.status == 1);
  Ran usage = run(std::string(SWEBOX_BINARY) + " validate --suite x.jsonl");
  CHECK(usage.status == 2);
  CHECK(usage.output.find("--repos is required") != std::string::npos);
  Ran help = run(std::string(SWEBOX_BINARY) + " validate --help");
  CHECK(help.status == 0);
  CHECK(help.output.find("3 some did not") != std::string::npos);
}

TEST_CASE("swebox env check says per repository and version what will run, exit 0 only when all can") {
  if (!fs::exists(fixture().bad_suite_plus())) {
    MESSAGE("skipped: the fixture suite could not be made: " << fixture().skip);
    return;
  }
  const auto& f = fixture();
  std::string bin = SWEBOX_BINARY;
  Ran good = run(bin + " env check --suite " + f.suite().string());
  INFO(good.output);
  CHECK(good.status == 0);
  CHECK(good.output.find("3 instance(s): 3 ready, 0 missing Debian packages, 0 not supported here, 0 with no entry") !=
        std::string::npos);

  Ran bad = run(bin + " env check --suite " + f.bad_suite_plus().string());
  INFO(bad.output);
  CHECK(bad.status == 1);
  CHECK(bad.output.find("missing packages swebox-fixtures/calc 9.9, 1 instance: environment missing Debian package "
                        "swebox-fixture-absent-package [swebox-fixtures__calc-env-missing]") != std::string::npos);
  CHECK(bad.output.find("not supported    swebox-fixtures/calc 8.8, 1 instance: fixture: a version this table marks "
                        "as not supported here [swebox-fixtures__calc-unsupported]") != std::string::npos);
  CHECK(bad.output.find("no entry         swebox-fixtures/nope 1.0, 1 instance") != std::string::npos);

  // --instances picks; a selection that can all run exits 0.
  Ran picked = run(bin + " env check --suite " + f.bad_suite_plus().string() +
                   " --instances swebox-fixtures__calc-1,swebox-fixtures__calc-hang");
  INFO(picked.output);
  CHECK(picked.status == 0);
  CHECK(picked.output.find("2 instance(s): 2 ready") != std::string::npos);
}

TEST_CASE("swebox eval reports an instance of a version the table does not support as an infra failure saying why") {
  SKIP_UNLESS_READY();
  const auto& f = fixture();
  fs::path out = f.root / "eval-unsupported";
  Ran r = run(std::string(SWEBOX_BINARY) + " eval --repos " + f.repos().string() + " --cache " + f.cache.string() +
              " --out " + out.string() + " --suite " + f.bad_suite_plus().string() +
              " --instances swebox-fixtures__calc-unsupported --predictions gold");
  INFO(r.output);
  CHECK(r.status == 3);
  CHECK(r.output.find("preflight") != std::string::npos);
  nlohmann::json rep =
      read_json(out / "gold" / "gold" / "swebox-fixtures__calc-unsupported" / "report.json").at("swebox-fixtures__calc-unsupported");
  CHECK(rep["infra_failure"] == true);
  CHECK(rep["infra_failure_reason"].get<std::string>().find(
            "environment not supported: swebox-fixtures/calc 8.8 is not supported here: fixture:") == 0);
}
