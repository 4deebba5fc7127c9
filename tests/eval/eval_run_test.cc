// `swebox eval` end to end: the fixture suite (real git repositories made by
// scripts/make-fixture-suite.sh), the real sandbox, real pytest; reports read back from disk.
#include <doctest/doctest.h>

#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include <nlohmann/json.hpp>

#include "command_run.h"
#include "fixture_suite.h"
#include "sandbox/sandbox.h"

namespace fs = std::filesystem;

using namespace swebox::eval_test;

namespace {




// One fixture suite and one cache per test process; each test writes its own --out.
struct Fixture : FixtureSuite {
  Fixture() : FixtureSuite("swebox-eval-test-") {}

  // `swebox eval` with the fixture repositories and cache, writing into OUT.
  Ran eval(const std::string& out, const std::string& args) const {
    return run(std::string(SWEBOX_BINARY) + " eval --repos " + (fixtures / "repos").string() + " --cache " +
               cache.string() + " --out " + (root / out).string() + " " + args);
  }
  fs::path report_dir(const std::string& out, const std::string& run_id, const std::string& model,
                      const std::string& id) const {
    return root / out / run_id / model / id;
  }
  nlohmann::json report(const std::string& out, const std::string& run_id, const std::string& model,
                        const std::string& id) const {
    return read_json(report_dir(out, run_id, model, id) / "report.json").at(id);
  }
};

const Fixture& fixture() {
  static Fixture f;
  return f;
}


const char* kGood[] = {"swebox-fixtures__calc-1", "swebox-fixtures__calc-2", "swebox-fixtures__textkit-1"};

}  // namespace

TEST_CASE("gold patches resolve every good fixture instance, with SWE-bench's files and report shape") {
  SKIP_UNLESS_READY();
  const auto& f = fixture();
  Ran r = f.eval("gold", "--suite " + f.suite().string() + " --predictions gold -j 2 --eval-timeout 120");
  INFO(r.output);
  REQUIRE(r.status == 0);
  for (const char* id : kGood) {
    CAPTURE(id);
    fs::path dir = f.report_dir("gold", "gold", "gold", id);
    for (const char* file : {"report.json", "test_output.txt", "patch.diff", "eval.sh", "run_instance.log"})
      CHECK_MESSAGE(fs::exists(dir / file), file);
    nlohmann::json rep = f.report("gold", "gold", "gold", id);
    CHECK(rep["patch_is_None"] == false);
    CHECK(rep["patch_exists"] == true);
    CHECK(rep["patch_successfully_applied"] == true);
    CHECK(rep["resolved"] == true);
    CHECK(rep["infra_failure"] == false);
    for (const char* key : {"FAIL_TO_PASS", "PASS_TO_PASS", "FAIL_TO_FAIL", "PASS_TO_FAIL"}) {
      CHECK(rep["tests_status"][key]["success"].is_array());
      CHECK(rep["tests_status"][key]["failure"].is_array());
    }
    CHECK(rep["tests_status"]["FAIL_TO_PASS"]["failure"].empty());
    CHECK(!rep["tests_status"]["FAIL_TO_PASS"]["success"].empty());
    CHECK(rep["tests_status"]["PASS_TO_PASS"]["failure"].empty());
    std::string log = read(dir / "test_output.txt");
    CHECK(log.find(">>>>> Start Test Output") != std::string::npos);
    CHECK(log.find(">>>>> End Test Output") != std::string::npos);
    CHECK(log.find(">>>>> Test Exit Code: 0") != std::string::npos);
    // The eval script ran without conda and without installing anything.
    std::string script = read(dir / "eval.sh");
    CHECK(script.find("\nconda activate") == std::string::npos);
    CHECK(script.find("\npython -m pip install") == std::string::npos);
    CHECK(read(dir / "run_instance.log").find("Applied Patch") != std::string::npos);
  }
  // calc-1 carries its own SWE-bench eval_script, calc-2 and textkit-1 rely on the table.
  CHECK(read(f.report_dir("gold", "gold", "gold", "swebox-fixtures__calc-1") / "run_instance.log")
            .find("instance eval_script") != std::string::npos);
  CHECK(read(f.report_dir("gold", "gold", "gold", "swebox-fixtures__textkit-1") / "run_instance.log")
            .find("built from the environment table") != std::string::npos);

  nlohmann::json summary = read_json(f.root / "gold" / "gold.gold.json");
  CHECK(summary["schema_version"] == 2);
  CHECK(summary["total_instances"] == 3);
  CHECK(summary["submitted_instances"] == 3);
  CHECK(summary["completed_instances"] == 3);
  CHECK(summary["resolved_instances"] == 3);
  CHECK(summary["unresolved_instances"] == 0);
  CHECK(summary["error_instances"] == 0);
  for (const char* key : {"completed_ids", "incomplete_ids", "empty_patch_ids", "submitted_ids", "resolved_ids",
                          "unresolved_ids", "infra_failure_ids", "ambiguous_failure_ids", "error_ids"})
    CHECK_MESSAGE(summary[key].is_array(), key);
  for (const char* key : {"total_instances", "submitted_instances", "completed_instances", "resolved_instances",
                          "unresolved_instances", "infra_failure_instances", "ambiguous_failure_instances",
                          "empty_patch_instances", "error_instances"})
    CHECK_MESSAGE(summary[key].is_number_integer(), key);
  CHECK(summary["failure_reasons"].is_object());
  CHECK(r.output.find("3 resolved") != std::string::npos);
}

TEST_CASE("empty patches leave every good fixture instance unresolved, its failing tests listed") {
  SKIP_UNLESS_READY();
  const auto& f = fixture();
  Ran r = f.eval("empty", "--suite " + f.suite().string() + " --predictions empty -j 2 --eval-timeout 120");
  INFO(r.output);
  REQUIRE(r.status == 0);
  for (const char* id : kGood) {
    CAPTURE(id);
    nlohmann::json rep = f.report("empty", "empty", "empty", id);
    CHECK(rep["patch_exists"] == false);
    CHECK(rep["resolved"] == false);
    CHECK(rep["infra_failure"] == false);
    CHECK(!rep["tests_status"]["FAIL_TO_PASS"]["failure"].empty());
    CHECK(rep["tests_status"]["PASS_TO_PASS"]["failure"].empty());
  }
  nlohmann::json summary = read_json(f.root / "empty" / "empty.empty.json");
  CHECK(summary["resolved_instances"] == 0);
  CHECK(summary["empty_patch_instances"] == 3);
  CHECK(summary["unresolved_instances"] == 3);
}

TEST_CASE("each bad input gets its own clear report and the other instances still run") {
  SKIP_UNLESS_READY();
  const auto& f = fixture();
  Ran r = f.eval("bad", "--suite " + f.bad_suite().string() + " --predictions gold -j 2 --eval-timeout 8");
  INFO(r.output);
  REQUIRE(r.status == 3);  // evaluated, but some instances could not be: the exit status says so
  // The preflight names what is missing before anything runs.
  size_t pre = r.output.find("preflight: these instances cannot be evaluated here");
  CHECK(pre != std::string::npos);
  CHECK(r.output.find("no repository for swebox-fixtures/nope") > pre);
  // The malformed line is named and skipped.
  CHECK(r.output.find("bad-suite.jsonl:8") != std::string::npos);
  auto rep = [&](const char* id) { return f.report("bad", "gold", "gold", id); };

  CHECK(rep("swebox-fixtures__calc-1")["resolved"] == true);

  auto nope = rep("swebox-fixtures__nope-1");
  CHECK(nope["infra_failure"] == true);
  CHECK(nope["infra_failure_reason"].get<std::string>().find("swebox-fixtures__nope") != std::string::npos);

  auto missing = rep("swebox-fixtures__calc-missing-commit");
  CHECK(missing["infra_failure"] == true);
  CHECK(missing["infra_failure_reason"].get<std::string>().find("0123456789abcdef") != std::string::npos);

  auto conflict = rep("swebox-fixtures__calc-patch-conflict");
  CHECK(conflict["infra_failure"] == false);
  CHECK(conflict["patch_successfully_applied"] == false);
  CHECK(conflict["resolved"] == false);
  CHECK(read(f.report_dir("bad", "gold", "gold", "swebox-fixtures__calc-patch-conflict") / "test_output.txt")
            .find(">>>>> Patch Apply Failed") != std::string::npos);

  auto hang = rep("swebox-fixtures__calc-hang");
  CHECK(hang["resolved"] == false);
  CHECK(hang["infra_failure"] == false);
  CHECK(hang["ambiguous_failure"] == true);
  CHECK(read(f.report_dir("bad", "gold", "gold", "swebox-fixtures__calc-hang") / "test_output.txt")
            .find("Timeout error: 8 seconds exceeded.") != std::string::npos);

  auto malformed = rep("swebox-fixtures__calc-malformed-log");
  CHECK(malformed["resolved"] == false);
  CHECK(malformed["ambiguous_failure"] == true);
  CHECK(malformed["tests_status"]["FAIL_TO_PASS"]["success"].empty());

  auto env = rep("swebox-fixtures__calc-env-missing");
  CHECK(env["infra_failure"] == true);
  std::string reason = env["infra_failure_reason"];
  CHECK(reason.find("environment missing") != std::string::npos);
  CHECK(reason.find("swebox-fixture-absent-package") != std::string::npos);
  CHECK(reason.find("swebox env setup --suite") != std::string::npos);

  nlohmann::json summary = read_json(f.root / "bad" / "gold.gold.json");
  CHECK(summary["total_instances"] == 7);
  CHECK(summary["resolved_instances"] == 1);
  CHECK(summary["infra_failure_instances"] == 3);
  CHECK(summary["ambiguous_failure_instances"] == 2);
  CHECK(summary["unresolved_instances"] == 3);
  CHECK(summary["failure_reasons"].contains("swebox-fixtures__calc-hang"));
  CHECK(summary["suite_errors"].size() == 1);
}

TEST_CASE("a second run with the same run id keeps earlier reports unless --force") {
  SKIP_UNLESS_READY();
  const auto& f = fixture();
  std::string args = "--suite " + f.suite().string() + " --predictions gold --instances swebox-fixtures__calc-2 --run-id again";
  Ran first = f.eval("rerun", args);
  INFO(first.output);
  REQUIRE(first.status == 0);
  fs::path report = f.report_dir("rerun", "again", "gold", "swebox-fixtures__calc-2") / "report.json";
  REQUIRE(fs::exists(report));
  // Mark the report: a second run must leave it as it is.
  nlohmann::json marked = read_json(report);
  marked["swebox-fixtures__calc-2"]["marker"] = "from the first run";
  std::ofstream(report) << marked.dump();

  Ran second = f.eval("rerun", args);
  INFO(second.output);
  CHECK(second.status == 0);
  CHECK(second.output.find("already reported") != std::string::npos);
  CHECK(read_json(report)["swebox-fixtures__calc-2"].contains("marker"));

  Ran forced = f.eval("rerun", args + " --force");
  INFO(forced.output);
  CHECK(forced.status == 0);
  CHECK_FALSE(read_json(report)["swebox-fixtures__calc-2"].contains("marker"));
  CHECK(read_json(report)["swebox-fixtures__calc-2"]["resolved"] == true);
}

TEST_CASE("a predictions file names the model's folder, and a null patch is reported as patch_is_None") {
  SKIP_UNLESS_READY();
  const auto& f = fixture();
  // calc-1's gold patch under a model name with a slash; calc-2 with a null patch.
  std::string gold;
  {
    std::ifstream in(f.suite());
    for (std::string line; std::getline(in, line);) {
      auto rec = nlohmann::json::parse(line);
      if (rec["instance_id"] == "swebox-fixtures__calc-1") gold = rec["patch"];
    }
  }
  REQUIRE(!gold.empty());
  fs::path preds = f.root / "preds.jsonl";
  {
    std::ofstream o(preds);
    o << nlohmann::json{{"instance_id", "swebox-fixtures__calc-1"}, {"model_name_or_path", "org/model-x"}, {"model_patch", gold}}.dump()
      << "\n"
      << nlohmann::json{{"instance_id", "swebox-fixtures__calc-2"}, {"model_name_or_path", "org/model-x"}, {"model_patch", nullptr}}.dump()
      << "\n";
  }
  Ran r = f.eval("preds", "--suite " + f.suite().string() + " --predictions " + preds.string() + " -j 2");
  INFO(r.output);
  REQUIRE(r.status == 0);
  CHECK(f.report("preds", "preds", "org__model-x", "swebox-fixtures__calc-1")["resolved"] == true);
  auto none = f.report("preds", "preds", "org__model-x", "swebox-fixtures__calc-2");
  CHECK(none["patch_is_None"] == true);
  CHECK(none["resolved"] == false);
  nlohmann::json summary = read_json(f.root / "preds" / "org__model-x.preds.json");
  CHECK(summary["submitted_instances"] == 2);
  CHECK(summary["incomplete_ids"] == nlohmann::json{"swebox-fixtures__textkit-1"});
  CHECK(summary["resolved_ids"] == nlohmann::json{"swebox-fixtures__calc-1"});
}

TEST_CASE("bad usage of swebox eval exits non-zero with a message") {
  const auto& f = fixture();
  std::string bin = SWEBOX_BINARY;
  Ran no_suite = run(bin + " eval --predictions gold --repos /tmp --out /tmp/x");
  CHECK(no_suite.status == 2);
  CHECK(no_suite.output.find("--suite") != std::string::npos);
  Ran bad_repos = run(bin + " eval --suite " + f.suite().string() + " --predictions gold --repos /nonexistent/repos --out /tmp/x");
  CHECK(bad_repos.status == 2);
  CHECK(bad_repos.output.find("/nonexistent/repos") != std::string::npos);
  Ran bad_j = run(bin + " eval --suite " + f.suite().string() + " --predictions gold --repos /tmp --out /tmp/x -j zero");
  CHECK(bad_j.status == 2);
  Ran unknown = run(bin + " eval --frobnicate");
  CHECK(unknown.status == 2);
  Ran bad_preds = run(bin + " eval --suite " + f.suite().string() + " --predictions /nonexistent/p.jsonl --repos /tmp --out /tmp/x");
  CHECK(bad_preds.status == 2);
  CHECK(bad_preds.output.find("/nonexistent/p.jsonl") != std::string::npos);
}

TEST_CASE("suite and prediction lines with invalid UTF-8 are reported, and the run still writes its summary") {
  // nlohmann's parse errors quote the bytes they stopped at; dumping them into the summary JSON
  // threw type_error 316 and aborted the run.
  SKIP_UNLESS_READY();
  const auto& f = fixture();
  fs::path suite = f.root / "utf8-suite.jsonl", preds = f.root / "utf8-preds.jsonl";
  {
    std::ifstream in(f.suite());
    std::ofstream o(suite, std::ios::binary);
    for (std::string line; std::getline(in, line);)
      if (line.find("swebox-fixtures__calc-1") != std::string::npos) o << line << "\n";
    o << "{\"instance_id\": \"bad\xff\xfe\", \"repo\": \"x/y\"}\n";
    std::ofstream p(preds, std::ios::binary);
    p << "{\"instance_id\": \"\xc3\x28\n"
      << nlohmann::json{{"instance_id", "swebox-fixtures__calc-1"}, {"model_name_or_path", "m"}, {"model_patch", ""}}.dump()
      << "\n";
  }
  Ran r = f.eval("utf8", "--suite " + suite.string() + " --predictions " + preds.string());
  INFO(r.output);
  REQUIRE(r.status == 3);  // a record was skipped
  nlohmann::json summary = read_json(f.root / "utf8" / "m.utf8-preds.json");
  REQUIRE(summary["suite_errors"].size() == 1);
  CHECK(summary["suite_errors"][0].get<std::string>().find("utf8-suite.jsonl:2") != std::string::npos);
  CHECK(summary["suite_errors"][0].get<std::string>().find("\xef\xbf\xbd") != std::string::npos);
  REQUIRE(summary["prediction_errors"].size() == 1);
  CHECK(summary["prediction_errors"][0].get<std::string>().find("\xef\xbf\xbd") != std::string::npos);  // U+FFFD
  CHECK(summary["submitted_instances"] == 1);
}

TEST_CASE("swebox env names the packages a suite misses and what it would install") {
  const auto& f = fixture();
  if (!fs::exists(f.bad_suite())) {
    MESSAGE("skipped: the fixture suite could not be made: " << f.skip);
    return;
  }
  std::string bin = SWEBOX_BINARY;
  Ran check = run(bin + " env check --suite " + f.bad_suite().string());
  CHECK(check.status == 1);
  CHECK(check.output.find("missing: swebox-fixture-absent-package (for swebox-fixtures/calc)") != std::string::npos);
  Ran dry = run(bin + " env setup --dry-run --suite " + f.bad_suite().string());
  CHECK(dry.status == 0);
  CHECK(dry.output.find("apt-get install -y -qq --no-install-recommends swebox-fixture-absent-package") != std::string::npos);
  Ran usage = run(bin + " env setup");
  CHECK(usage.status == 2);
}

TEST_CASE("a prediction for an instance the suite lacks, or an --instances id it lacks, stops eval with the ids named") {
  SKIP_UNLESS_READY();
  const auto& f = fixture();
  fs::path preds = f.root / "unknown-preds.jsonl";
  std::ofstream(preds) << nlohmann::json{{"instance_id", "swebox-fixtures__calc-1"}, {"model_name_or_path", "m"}, {"model_patch", ""}}.dump()
                       << "\n"
                       << nlohmann::json{{"instance_id", "django__django-1"}, {"model_name_or_path", "m"}, {"model_patch", ""}}.dump()
                       << "\n";
  Ran r = f.eval("unknown", "--suite " + f.suite().string() + " --predictions " + preds.string());
  INFO(r.output);
  CHECK(r.status == 1);
  CHECK(r.output.find("1 prediction(s) name instances that are not in") != std::string::npos);
  CHECK(r.output.find("django__django-1") != std::string::npos);
  CHECK(!fs::exists(f.root / "unknown" / "unknown-preds"));  // nothing evaluated

  Ran ids = f.eval("unknown-ids",
                   "--suite " + f.suite().string() +
                       " --predictions gold --instances \"swebox-fixtures__calc-1,nope-7,bad$(printf '\\377')\"");
  INFO(ids.output);
  CHECK(ids.status == 1);
  CHECK(ids.output.find("--instances names ids that are not in") != std::string::npos);
  CHECK(ids.output.find("nope-7") != std::string::npos);
  CHECK(ids.output.find("bad\xef\xbf\xbd") != std::string::npos);  // an invalid byte is replaced (U+FFFD)
}

TEST_CASE("a suite record without FAIL_TO_PASS is skipped and named, an explicit empty PASS_TO_PASS is evaluated") {
  SKIP_UNLESS_READY();
  const auto& f = fixture();
  fs::path suite = f.root / "missing-fields.jsonl";
  {
    std::ifstream in(f.suite());
    std::ofstream o(suite);
    for (std::string line; std::getline(in, line);) {
      auto rec = nlohmann::json::parse(line);
      if (rec["instance_id"] == "swebox-fixtures__calc-1") rec.erase("FAIL_TO_PASS");
      if (rec["instance_id"] == "swebox-fixtures__calc-2") rec["PASS_TO_PASS"] = nlohmann::json::array();
      if (rec["instance_id"] != "swebox-fixtures__textkit-1") o << rec.dump() << "\n";
    }
  }
  Ran r = f.eval("missing-fields", "--suite " + suite.string() + " --predictions gold");
  INFO(r.output);
  CHECK(r.status == 3);  // a record was skipped: the exit status says so
  CHECK(r.output.find("missing-fields.jsonl:1 (swebox-fixtures__calc-1): missing field \"FAIL_TO_PASS\"") !=
        std::string::npos);
  nlohmann::json summary = read_json(f.root / "missing-fields" / "gold.gold.json");
  CHECK(summary["total_instances"] == 1);
  CHECK(summary["resolved_ids"] == nlohmann::json{"swebox-fixtures__calc-2"});
  CHECK(summary["suite_errors"].size() == 1);
}
