// A validated bug artifact as a SWE-bench instance (docs/formats.md §6.2, §6.3), so that `swebox eval`,
// `validate` and `run` take it as they take any instance: the repository's buggy, weakened state is
// committed as a root commit (no parent: the solver sees neither the original nor the injector's
// history) under refs/selfplay/<id>; that commit is base_commit; the gold `patch` is the bug reversed
// (code files), `test_patch` the weakening reversed (the original test files back); FAIL_TO_PASS and
// PASS_TO_PASS come from the validation; the eval script resets every oracle test file, applies
// test_patch and runs the artifact's test script, graded with `log_parser` (the artifact's test
// output must be in that runner's format: the injectors here run pytest -rA).
#pragma once

#include <string>

#include "tasks/bug_artifact.h"
#include "tasks/bug_validation.h"
#include "tasks/suite.h"

namespace swebox::tasks {

struct BugInstanceSpec {
  std::string repository_path;  // the git repository (bare or not) the commit is written to
  std::string repo;             // "owner/name" of the instance
  std::string original_commit;
  std::string bug_id;           // the instance id is "<owner>__<name>-<bug_id>"
  std::string version = "selfplay";
  std::string log_parser = "parse_log_pytest";
  // The solver's specification (SSR: the reversed weakening with a short note): "{test_patch}" in it
  // is replaced by the instance's test_patch (templates/selfplay/repair.txt).
  std::string problem_template = "{test_patch}";
};

// Commits original + bug + weakening (root commit, refs/selfplay/<bug_id>) and returns the instance.
// Throws RepositoryError / std::runtime_error when a diff does not apply.
Instance make_bug_instance(const BugInstanceSpec& spec, const BugArtifact& artifact, const BugValidation& validation);

// The instance as a SWE-bench JSONL record (FAIL_TO_PASS / PASS_TO_PASS as JSON-encoded strings).
nlohmann::json instance_record(const Instance& instance);

}  // namespace swebox::tasks
