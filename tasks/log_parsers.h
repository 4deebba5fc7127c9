// Test-log parsers: a test runner's output -> test id -> status (docs/formats.md §4.4; SWE-bench
// swebench/harness/log_parsers/python.py, v5). One small parser per runner; grading.h applies the
// rules. Lines are split on '\n' and tokens on Python's whitespace, as the Python parsers do, so the
// ids match the instances' FAIL_TO_PASS / PASS_TO_PASS strings exactly.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace swebox::tasks {

enum class TestStatus {
  passed,
  failed,
  skipped,
  error,
  xfail,
  // The runner's status word was none of the above (e.g. pytest's parser keys "PASSEDx" lines too).
  // SWE-bench keeps such raw strings; grading treats them as it does: neither pass nor fail.
  other,
};
const char* to_string(TestStatus status);  // "PASSED", "FAILED", "SKIPPED", "ERROR", "XFAIL", "OTHER"

using StatusMap = std::map<std::string, TestStatus>;

// Parses `log` with the named parser. Names are SWE-bench's registry keys as they appear in v5
// instances ("parse_log_pytest", "parse_log_django", "parse_log_sympy", "parse_log_scikit", ...),
// or the bare runner names "pytest", "pytest_options", "pytest_v2", "django", "sympy",
// "matplotlib", "seaborn", "unittest", "junit_xml". Throws std::invalid_argument listing the known
// names for any other name.
StatusMap parse_log(std::string_view parser_name, std::string_view log);

// True when `parser_name` is accepted by parse_log.
bool is_known_parser(std::string_view parser_name);
std::vector<std::string> known_parsers();

// The value of attribute `name` in an XML start tag's text (entities decoded), or "" when absent.
std::string xml_attribute(std::string_view tag, std::string_view name);

// SWE-bench's MAP_REPO_TO_PARSER_PY for instances without a log_parser field: "owner/name" ->
// registry name, e.g. "django/django" -> "parse_log_django". Empty when the repository is unknown.
std::string parser_for_repo(std::string_view repo);

// The individual parsers.
StatusMap parse_log_pytest(std::string_view log);
StatusMap parse_log_pytest_options(std::string_view log);
StatusMap parse_log_pytest_v2(std::string_view log);
StatusMap parse_log_django(std::string_view log);
StatusMap parse_log_sympy(std::string_view log);
StatusMap parse_log_matplotlib(std::string_view log);
StatusMap parse_log_seaborn(std::string_view log);
// Python unittest verbose output: "test_x (mod.Class) ... ok|FAIL|ERROR|skipped 'why'|expected
// failure|unexpected success"; the id is the text before " ... ".
StatusMap parse_log_unittest(std::string_view log);
// JUnit XML (<testcase classname="C" name="N"> with <failure>, <error> or <skipped> children); the id
// is "C.N", or "N" without a classname.
StatusMap parse_log_junit_xml(std::string_view log);

}  // namespace swebox::tasks
