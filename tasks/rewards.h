// Episode rewards from a test outcome and a patch (docs/formats.md §5.2): the test-based ±1 reward and
// CWM's shaping with SWE-RL similarity. Pure functions; the eval job supplies `passed`
// (grading.h's Grade::resolved, a timeout counting as a fail).
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace swebox::tasks {

enum class RewardMode {
  pass_only,       // 2·pass − 1
  similarities,    // s = 1: pass → 0; mean similarity ≥ threshold → −1 + threshold; else −1
  similarities_2,  // s = 2: pass → 1; mean similarity ≥ threshold → −1 + 2·threshold; else −1
};
const char* to_string(RewardMode mode);  // "pass_only", "similarities", "similarities_2"
// Throws std::invalid_argument naming the accepted modes.
RewardMode parse_reward_mode(std::string_view name);

struct RewardOptions {
  RewardMode mode = RewardMode::pass_only;
  double threshold = 0.5;  // [C] CWM's training value is not published
};

struct RewardParts {
  double test = -1.0;                // +1 resolved, −1 otherwise
  std::optional<double> similarity;  // mean unidiff similarity; only computed for failing patches
                                     // in the similarity modes
  double total = -1.0;               // the reward placed on the terminal token
  std::string mode;
};

// False for a patch that cannot be run: blank, or without "diff" anywhere (CWM fails it unrun).
bool patch_is_runnable(std::string_view patch);

// +1 / −1.
inline double test_reward(bool resolved) { return resolved ? 1.0 : -1.0; }

// The shaped reward. `passed` is the test outcome (false for an unrunnable patch, a timeout, max
// turns, context overflow or a strict format error). The similarity uses the unidiff variant
// with predicted files outside the oracle dropped; no file at all counts as below threshold.
RewardParts shaped_reward(const RewardOptions& options, bool passed, std::string_view oracle_patch,
                          std::string_view predicted_patch);

}  // namespace swebox::tasks
