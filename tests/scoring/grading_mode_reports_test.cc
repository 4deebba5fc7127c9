// The grading mode and the judge's audit in report.json and the run summary: added after SWE-bench's
// keys, which stay as they were.
#include <doctest/doctest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "tasks/evaluation.h"
#include "tasks/reports.h"

using namespace swebox::tasks;
namespace fs = std::filesystem;

namespace {

EvalResult result(const std::string& id, GradingMode mode, bool flagged) {
  EvalResult r;
  r.instance_id = id;
  r.model = "m";
  r.patch = "diff --git a/x b/x\n";
  r.patch_exists = r.patch_applied = r.gradeable = true;
  r.grading = mode;
  r.audit["mode"] = to_string(mode);
  r.audit["flagged"] = flagged;
  if (flagged)
    r.audit["stripped"] = nlohmann::json::array({{{"path", "conftest.py"}, {"change", "added"}, {"why", "w"}, {"part", "file"}}});
  return r;
}

}  // namespace

TEST_CASE("report.json keeps SWE-bench's keys first, then names the grading mode and carries the audit") {
  nlohmann::ordered_json rep = instance_report(result("o__r-1", GradingMode::sealed, true))["o__r-1"];
  std::vector<std::string> keys;
  for (auto it = rep.begin(); it != rep.end(); ++it) keys.push_back(it.key());
  std::vector<std::string> expected = {"patch_is_None", "patch_exists", "patch_successfully_applied", "resolved",
                                       "infra_failure", "tests_status", "grading", "audit"};
  CHECK(keys == expected);
  CHECK(rep["grading"] == "sealed");
  CHECK(rep["audit"]["mode"] == "sealed");
  CHECK(rep["audit"]["stripped"][0]["path"] == "conftest.py");
  CHECK(instance_report(result("o__r-1", GradingMode::swebench, false))["o__r-1"]["grading"] == "swebench");
  CHECK(std::string(to_string(parse_grading_mode("sealed"))) == "sealed");
  CHECK_THROWS_WITH_AS(parse_grading_mode("strict"), doctest::Contains("strict"), std::invalid_argument);
}

TEST_CASE("the run summary names the grading mode and lists the flagged instances") {
  fs::path out = fs::temp_directory_path() / ("swebox-grading-summary-" + std::to_string(getpid()));
  SwebenchRunReportInput in;
  in.run_id = "r";
  in.model = "m";
  in.out_dir = out.string();
  in.grading = "sealed";
  in.dataset_ids = {"o__r-1", "o__r-2"};
  in.predictions = {{"o__r-1", std::string("diff")}, {"o__r-2", std::string("diff")}};
  write_instance_report(instance_report_dir(in.out_dir, "r", "m", "o__r-1"), result("o__r-1", GradingMode::sealed, true));
  write_instance_report(instance_report_dir(in.out_dir, "r", "m", "o__r-2"), result("o__r-2", GradingMode::sealed, false));
  nlohmann::json s = swebench_run_report(in);
  CHECK(s["grading"] == "sealed");
  CHECK(s["flagged_instances"] == 1);
  CHECK(s["flagged_ids"] == nlohmann::json::array({"o__r-1"}));
  CHECK(s["schema_version"] == 2);
  CHECK(s["completed_instances"] == 2);
  fs::remove_all(out);
}

TEST_CASE("report folders follow SWE-bench's model naming and never name a parent or no folder") {
  CHECK(swebox::tasks::model_dir_name("org/model-x") == "org__model-x");
  CHECK(swebox::tasks::model_dir_name("..") == "_..");
  CHECK(swebox::tasks::model_dir_name(".") == "_.");
  CHECK(swebox::tasks::model_dir_name("") == "_");
  CHECK(swebox::tasks::instance_report_dir("out", "run", "..", "a__b-1") == "out/run/_../a__b-1");
}
