// Is an instance fit to benchmark with, here? SWE-bench's own release gate: its gold patch resolves
// it and, with no change at all, its FAIL_TO_PASS tests fail. `swebox validate` evaluates both and
// keeps the instances that pass; for the others it says why, in words a maintainer can act on.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tasks/environment_report.h"
#include "tasks/suite.h"

namespace swebox::tasks {

enum class ValidationVerdict {
  validated,                  // gold resolves; with the empty patch no FAIL_TO_PASS test passes
  environment_not_supported,  // the table marks the repository/version as not runnable here
  no_environment,             // the table has no entry for it
  environment_not_ready,      // supported, but Debian packages are missing (swebox env setup)
  infra_failure,              // an evaluation could not be done (repository, commit, sandbox...)
  gold_not_resolved,          // the gold patch did not apply, or a FAIL_TO_PASS/PASS_TO_PASS test failed
  empty_passes_f2p,           // some FAIL_TO_PASS test already passes without a fix
};
// "validated", "environment not supported", "no environment", "environment not ready",
// "infra failure", "gold not resolved", "empty passes F2P".
const char* to_string(ValidationVerdict verdict);

// One evaluation's outcome, from its report.json entry (or why there is none).
struct ValidationRun {
  std::optional<nlohmann::json> report;  // the instance's entry of report.json
  std::string error;                     // why no report was written, when none was
};

struct InstanceValidation {
  std::string instance_id;
  std::string repo;
  std::string version;
  ValidationVerdict verdict = ValidationVerdict::validated;
  std::string reason;     // "" when validated; else one line saying what failed
  std::string gold;       // "resolved (F2P 1/1, P2P 59/59)", "unresolved (...)", "infra failure", "not run"
  std::string empty;      // the same for the empty patch
  nlohmann::json gold_report = nullptr;   // the report.json entries, null when not run
  nlohmann::json empty_report = nullptr;
};

// The verdict for an instance whose environment cannot run (not supported, no entry, missing
// packages): nothing was evaluated.
InstanceValidation validation_without_runs(const InstanceEnvironment& environment);

// The verdict from the gold and empty evaluations of an instance whose environment is ready.
InstanceValidation judge_validation(const Instance& instance, const ValidationRun& gold, const ValidationRun& empty);

// OUT/validation.json's content: the inputs, the counts per verdict and one object per instance.
nlohmann::json validation_summary(const std::vector<InstanceValidation>& results, const std::string& suite_path,
                                  const std::string& table_path);

// The table `swebox validate` prints: instance, gold, empty, and the reason for the rest.
std::string validation_table_text(const std::vector<InstanceValidation>& results);

}  // namespace swebox::tasks
