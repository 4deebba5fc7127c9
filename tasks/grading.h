// SWE-bench's grading rules (docs/formats.md §4.3; swebench/harness/grading.py at v5 HEAD, with a v4.1
// compatibility switch): is a test log gradeable, which FAIL_TO_PASS / PASS_TO_PASS tests
// succeeded, and is the instance resolved. Pure functions over the log text.
//
// Typical use (the eval job):
//   Grade g = grade_log(test_output, instance.FAIL_TO_PASS, instance.PASS_TO_PASS, spec.log_parser,
//                       GradingOptions{.eval_type = parse_eval_type(instance.eval_type)});
//   report["tests_status"] = tests_status_json(g.tests_status);   // only when g.gradeable
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "tasks/log_parsers.h"

namespace swebox::tasks {

// The eval script's markers (swebench/harness/constants).
inline constexpr std::string_view kStartTestOutput = ">>>>> Start Test Output";
inline constexpr std::string_view kEndTestOutput = ">>>>> End Test Output";
inline constexpr std::string_view kTestExitCode = ">>>>> Test Exit Code";  // ": N", after the end marker
inline constexpr std::string_view kApplyPatchFail = ">>>>> Patch Apply Failed";
inline constexpr std::string_view kResetFailed = ">>>>> Reset Failed";
inline constexpr std::string_view kTestsErrored = ">>>>> Tests Errored";
inline constexpr std::string_view kTestsTimedOut = ">>>>> Tests Timed Out";
// Appended by the harness when the eval script runs out of time ("Timeout error: N seconds
// exceeded."); SWE-bench then writes no report, so such a log is never resolved.
inline constexpr std::string_view kTimeoutError = "Timeout error: ";

enum class EvalType { pass_and_fail, fail_only };
// "" and "pass_and_fail" -> pass_and_fail, "fail_only" -> fail_only; anything else throws
// std::invalid_argument.
EvalType parse_eval_type(std::string_view name);

struct GradingOptions {
  EvalType eval_type = EvalType::pass_and_fail;
  // SWE-bench v4.1's rules: SKIPPED is neither success nor failure (for F2P and P2P), ids match
  // exactly (no prefix match of truncated ids), and neither the exit-code cross-check nor the
  // "did the runner run" check applies. false = v5 HEAD.
  bool v4_1_compat = false;
  // Also sort FAIL_TO_FAIL / PASS_TO_FAIL (SWE-bench's calculate_to_fail); off in SWE-bench's report.
  bool calculate_to_fail = false;
};

struct TestLists {
  std::vector<std::string> fail_to_pass, pass_to_pass, fail_to_fail, pass_to_fail;
};

struct SuccessFailure {
  std::vector<std::string> success, failure;
};

struct TestsStatus {
  SuccessFailure fail_to_pass, pass_to_pass, fail_to_fail, pass_to_fail;
};

enum class Resolution { full, partial, no };
const char* to_string(Resolution r);      // "FULL", "PARTIAL", "NO"
const char* swebench_name(Resolution r);  // "RESOLVED_FULL", "RESOLVED_PARTIAL", "RESOLVED_NO"

// get_logs_eval: the status map of a whole test_output.txt, or why it cannot be graded.
struct LogEvaluation {
  bool gradeable = false;
  std::string ungradeable_reason;  // e.g. "error marker '>>>>> Tests Errored' in the log"
  StatusMap status_map;
  std::optional<int> test_exit_code;  // from ">>>>> Test Exit Code: N" when present
};
// Throws std::invalid_argument for an unknown parser name (see log_parsers.h).
LogEvaluation evaluate_log(std::string_view log, std::string_view parser_name, const GradingOptions& options = {});

// get_eval_tests_report: which listed tests succeeded and which failed (a test may be in neither,
// e.g. a SKIPPED F2P test under v4.1 rules).
TestsStatus tests_report(const StatusMap& status_map, const TestLists& lists, const GradingOptions& options = {});

// success / (success + failure); 1 for an empty list.
double fail_to_pass_rate(const TestsStatus& s);
double pass_to_pass_rate(const TestsStatus& s);
// FULL: both rates 1; PARTIAL: 0 < F2P < 1 and P2P = 1; NO otherwise.
Resolution resolution_status(const TestsStatus& s);

struct Grade {
  bool gradeable = false;
  std::string ungradeable_reason;
  StatusMap status_map;
  std::optional<int> test_exit_code;
  TestsStatus tests_status;  // empty when not gradeable
  double f2p_rate = 0.0, p2p_rate = 0.0;
  Resolution resolution = Resolution::no;
  bool resolved = false;  // only FULL resolves
};

// evaluate_log + tests_report + resolution in one call.
Grade grade_log(std::string_view log, const TestLists& lists, std::string_view parser_name,
                const GradingOptions& options = {});
Grade grade_log(std::string_view log, const std::vector<std::string>& fail_to_pass,
                const std::vector<std::string>& pass_to_pass, std::string_view parser_name,
                const GradingOptions& options = {});

// report.json's "tests_status": {"FAIL_TO_PASS": {"success": [...], "failure": [...]},
// "PASS_TO_PASS": ..., "FAIL_TO_FAIL": ..., "PASS_TO_FAIL": ...} in SWE-bench's key order
// (ordered_json keeps it; a plain nlohmann::json would sort the keys).
nlohmann::ordered_json tests_status_json(const TestsStatus& s);

}  // namespace swebox::tasks
