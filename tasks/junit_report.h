// pytest's JUnit XML report, read back by the host for sealed grading: the outcomes the test runner
// recorded in a file outside the work tree, at a path chosen per evaluation, instead of lines on
// stdout that the code under test can print as well.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "tasks/log_parsers.h"

namespace swebox::tasks {

// Every <testcase> of a report: "classname.name" (or "name") -> status. <failure> is FAILED,
// <error> ERROR, <skipped type="pytest.xfail"> XFAIL, other <skipped> SKIPPED, none PASSED; a
// case listed twice keeps its worse outcome.
StatusMap read_junit_report(std::string_view xml);

// The report's key of a pytest node id (pytest's mangle_test_address): "tests/test_x.py::TestA::test_b[p]"
// -> "tests.test_x.TestA.test_b[p]".
std::string junit_key(std::string_view nodeid);

// The statuses of `ids` (FAIL_TO_PASS, PASS_TO_PASS) as the report gives them, keyed by the ids; an id
// the report lacks is absent (missing = failure, as on stdout). A truncated parametrized id (more '['
// than ']') takes the outcome of the cases it prefixes when they agree, as SWE-bench's grading does.
StatusMap junit_status_of(const StatusMap& report, const std::vector<std::string>& ids);

// Whether a log parser reads pytest's output (so the test command is pytest and a JUnit report can
// be asked for).
bool is_pytest_parser(std::string_view parser_name);

}  // namespace swebox::tasks
