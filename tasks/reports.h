// The files of an evaluation run (docs/formats.md §4.5), laid out as SWE-bench lays them out:
//   OUT/<run_id>/<model, / -> __>/<iid>/{report.json, test_output.txt, patch.diff, eval.sh, run_instance.log}
//   OUT/<model, / -> __>.<run_id>.json   the SWE-bench run report (schema_version 2; not `swebox run`'s
//                                         summary.json, which runner/run_summary.h makes)
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tasks/evaluation.h"

namespace swebox::tasks {

// "org/model" -> "org__model", as SWE-bench names the model's folder.
std::string model_dir_name(const std::string& model);
std::string instance_report_dir(const std::string& out, const std::string& run_id,
                                const std::string& model, const std::string& instance_id);

// {iid: {patch_is_None, patch_exists, patch_successfully_applied, resolved, [infra_failure,
// infra_failure_reason], tests_status, grading, audit}} for one result: SWE-bench's keys, then the
// grading mode ("swebench" | "sealed") and the judge's audit (see EvalResult::audit).
nlohmann::ordered_json instance_report(const EvalResult& result);

// Writes the instance's five files into `dir` (created). report.json is written last, through a
// temporary file and a rename, so its presence means the others are complete.
void write_instance_report(const std::string& dir, const EvalResult& result);

// The report.json entry of `instance_id` in `dir`, or nullopt when there is none (or it is unreadable).
std::optional<nlohmann::json> read_instance_report(const std::string& dir, const std::string& instance_id);

// What the SWE-bench run report is made from: the suite's ids, the predictions' patches, the reports on disk.
struct SwebenchRunReportInput {
  std::string run_id;
  std::string model;
  std::vector<std::string> dataset_ids;                       // every instance of the suite (after --instances)
  std::map<std::string, std::optional<std::string>> predictions;  // id -> model_patch (nullopt = null)
  std::string out_dir;                                        // where the instance folders are
  std::map<std::string, std::string> errors;                  // id -> why no report (or no prediction) was written
  std::string grading = "swebench";                           // the grading mode of the run
};

// The run report, as SWE-bench's make_run_report counts it, plus infra and ambiguous failures:
//   {total,submitted,completed,resolved,unresolved,infra_failure,ambiguous_failure,empty_patch,error}_instances,
//   {completed,incomplete,empty_patch,submitted,resolved,unresolved,infra_failure,ambiguous_failure,error}_ids,
//   failure_reasons {id: reason}, schema_version 2; then grading (the mode), flagged_instances and
//   flagged_ids (reports whose audit flags test-infrastructure changes or stdout/JUnit disagreements).
// completed = a report exists and the evaluation itself worked (an empty patch is counted as
// empty_patch and, when it was evaluated anyway, also completed and unresolved); infra_failure = a report says the
// evaluation could not be done; ambiguous_failure = unresolved because the log could not be graded
// (a timeout, missing markers, no test results); error = no report was written (an id without a
// prediction counts as an error when `errors` names it, else as incomplete).
nlohmann::json swebench_run_report(const SwebenchRunReportInput& input);
// Writes it to OUT/<model dir>.<run_id>.json and returns that path.
std::string write_swebench_run_report(const SwebenchRunReportInput& input, const nlohmann::json& report);

}  // namespace swebox::tasks
