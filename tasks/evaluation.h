// One SWE-bench evaluation (docs/formats.md §4.2): a fresh sandbox over the cached base tree, network none;
// the prediction applied with the SWE-bench apply chain; the eval script run with a time limit; the
// log graded. Or, with EvalOptions::instance_images, all of it in a container of the instance's own
// SWE-bench image, its eval script as it is. Everything report.json and run_instance.log need comes
// back in EvalResult.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "sandbox/sandbox.h"
#include "tasks/environment.h"
#include "tasks/suite.h"
#include "tasks/test_spec.h"

namespace swebox::tasks {

// How a patch is judged; every report names the mode.
//   swebench: SWE-bench's verdicts exactly (the default of `swebox eval`: comparability is the point).
//   sealed:   for rewards that train a policy (the default of `swebox run`): test infrastructure the
//             patch changes is stripped and flagged, test files are reset to the test patch, bytecode
//             is purged, and a test patch that does not apply is an infrastructure failure.
enum class GradingMode { swebench, sealed };
const char* to_string(GradingMode mode);
// "swebench" or "sealed"; anything else throws std::invalid_argument naming the value.
GradingMode parse_grading_mode(const std::string& name);

// One line of SWE-bench predictions: {instance_id, model_name_or_path, model_patch}.
struct Prediction {
  std::string instance_id;
  std::string model_name_or_path;
  std::optional<std::string> model_patch;  // nullopt = null in the input ("patch_is_None")
};

// An evaluation's sandbox: whole test logs (graders read all of them: a cut log loses its end
// marker), and room for a real test suite.
inline sandbox::Limits evaluation_limits() {
  sandbox::Limits l;
  l.output_bytes = 64ull << 20;
  l.memory_bytes = 8ull << 30;
  l.pids = 4096;
  l.workspace_bytes = 2ull << 30;  // the workspace's changes: a capped tmpfs, not the host's disk
  return l;
}

struct EvalOptions {
  std::string repos_dir;            // holds <owner>__<name> git repositories
  std::string cache_dir;            // base tree cache; empty = the workspace cache's default
  double timeout_s = 1800;          // for the eval script (SWE-bench's default)
  double apply_timeout_s = 120;     // for the patch apply chain
  const EnvironmentTable* environments = nullptr;  // required
  std::string env_setup_hint;       // e.g. "swebox env setup --suite FILE", shown when something is missing
  bool v4_1_compat = false;         // grade with SWE-bench v4.1's rules (grading.h)
  sandbox::Limits limits = evaluation_limits();
  sandbox::Backend backend = sandbox::Backend::native;
  GradingMode grading = GradingMode::swebench;
  // Evaluate in each instance's own image, as SWE-bench does (`swebox eval --backend docker`): the
  // image is instance_image(instance, image_template) (tasks/instance_image.h); no base tree, no
  // host environment; swebench grading only. An instance without an image is an infra failure.
  bool instance_images = false;
  std::string image_template;
};

// Where the time went, in seconds.
struct EvalTiming {
  double total_s = 0;      // the whole evaluation
  double workspace_s = 0;  // preparing (or finding) the cached base tree
  double sandbox_s = 0;    // creating and tearing down the sandbox
  double apply_s = 0;      // the patch apply chain
  double script_s = 0;     // the eval script, all of it
  double test_s = -1;      // the test command alone (between the markers); -1 when unknown
  // Everything that is not the test command itself.
  double harness_s() const { return test_s >= 0 ? total_s - test_s : -1; }
};

struct EvalResult {
  std::string instance_id;
  std::string model;                    // model_name_or_path
  std::string patch;                    // what was applied (patch.diff)
  bool patch_is_none = false;
  bool patch_exists = false;
  bool patch_applied = false;           // patch_successfully_applied
  std::string apply_strategy;           // e.g. "git apply --verbose"; "" when nothing applied
  bool resolved = false;
  std::string resolution;               // "FULL" | "PARTIAL" | "NO" | "" (not graded)
  bool infra_failure = false;           // the evaluation could not be done (not the patch's fault)
  std::string infra_failure_reason;
  bool timed_out = false;
  bool gradeable = false;
  std::string ungradeable_reason;
  int test_exit_code = -1;
  nlohmann::ordered_json tests_status = nlohmann::ordered_json::object();  // FAIL_TO_PASS, PASS_TO_PASS, ... {success, failure}
  std::string eval_script;              // eval.sh as run
  std::string test_output;              // test_output.txt: the apply chain's and the eval script's output
  std::vector<std::string> log;         // run_instance.log, line by line
  EvalTiming timing;
  GradingMode grading = GradingMode::swebench;  // the mode this verdict was reached in
  // What the judge saw and did beyond SWE-bench's fields (e.g. "stripped": paths removed from the
  // patch as test infrastructure); an object, empty when there is nothing to say.
  nlohmann::json audit = nlohmann::json::object();
};

// Evaluates one instance; never throws for a bad instance or a failing sandbox (those come back as
// infra failures with a reason).
EvalResult evaluate_instance(const Instance& instance, const Prediction& prediction,
                             const EvalOptions& options);

}  // namespace swebox::tasks
