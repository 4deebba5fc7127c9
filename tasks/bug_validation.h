// The seven consistency checks of a bug artifact (SSR, docs/formats.md §6.2), each its own step with
// its own failure reason, run in order; the first that fails rejects the artifact and the later ones
// are not run. Test runs go through a BugTestRunner (tasks/bug_test_run.h), in the sandbox.
//
// A test "fails" in a run when the parser says failed or does not list it (a test the bug makes
// uncollectable fails too, as in SWE-smith's rule).
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tasks/bug_artifact.h"
#include "tasks/bug_test_run.h"

namespace swebox::tasks {

enum class BugCheck {
  test_files,        // 1. the test files exist at the original and cover every file of the weakening
  parser,            // 2. the parser yields {test: passed|failed} for the runs
  original_passing,  // 3. on the original code at least min_passing_tests tests pass
  changed_files,     // 4. the bug changes at least min_changed_files files, none of them a test file
  bug_breaks_tests,  // 5. at least min_failing_tests tests passing on the original fail with the bug
  weakening_hides,   // 6. some test failing with the bug passes (or is removed) once weakened
  inverse_mutation,  // 7. reverting any one file of the bug alone makes some failing test pass
};
inline constexpr int kBugCheckCount = 7;
// "test_files", "parser", "original_passing", "changed_files", "bug_breaks_tests",
// "weakening_hides", "inverse_mutation": the rejection reasons of the record and summary.json.
const char* to_string(BugCheck check);

// [?] SSR's values are unpublished; the defaults are the public replication's (FORMATS.md §6.2).
// The minimums are inclusive.
struct BugValidationOptions {
  int min_passing_tests = 5;
  int min_changed_files = 1;
  int min_failing_tests = 1;
};

struct BugCheckResult {
  BugCheck check;
  std::string status;  // "passed", "failed", "not run"
  std::string detail;  // what was seen, in words
};

struct BugValidation {
  bool valid = false;
  bool infra_failure = false;  // a run could not be done (not the artifact's fault); no verdict
  std::string infra_reason;
  std::optional<BugCheck> rejection;  // the check that failed
  std::string reason;                 // its detail
  std::vector<BugCheckResult> checks; // all seven, in order
  // With the original tests: passing on the original and failing with the bug / passing in both.
  std::vector<std::string> fail_to_pass, pass_to_pass;
  int test_runs = 0, cached_runs = 0;
};

// Runs the checks. Never throws for a bad artifact; a run that cannot be done is an infra failure.
// `original_has_file(path)` says whether the original commit has a file there (check 1).
BugValidation validate_bug_artifact(const BugArtifact& artifact, BugTestRunner& runner,
                                    const BugValidationOptions& options,
                                    const std::function<bool(const std::string&)>& original_has_file);

// The record's "validation" object.
nlohmann::json to_json(const BugValidation& validation);

}  // namespace swebox::tasks
