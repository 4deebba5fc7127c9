// pytest's JUnit XML report as the host reads it back for sealed grading (tasks/junit_report).
// The code under test runs beside the report, so its content is hostile. Input: XML \0 ids, one a
// line (FAIL_TO_PASS-like node ids).
// Properties: no crash, no uncaught exception; every status asked for is about an id asked for.
#include <algorithm>

#include "fuzz/fuzz_input.h"
#include "tasks/junit_report.h"
#include "tasks/python_str.h"

using namespace swebox::tasks;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto p = swebox::fuzz::parts(swebox::fuzz::as_text(data, size), 2);
  StatusMap report = read_junit_report(p[0]);
  std::vector<std::string> ids;
  for (std::string_view l : pystr::split(p[1], "\n"))
    if (!l.empty()) ids.emplace_back(l), (void)junit_key(l);
  for (const auto& [id, status] : junit_status_of(report, ids))
    FUZZ_CHECK(std::find(ids.begin(), ids.end(), id) != ids.end());
  return 0;
}
