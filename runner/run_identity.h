// A run's identity, recorded in OUT/run.json when it starts: what makes its episodes comparable
// (policy, model, sampling, the suite's content, the episode config, the prompt templates, the
// environments table, the swebox version). `--resume` compares the identity it would run with to
// the recorded one and refuses a difference (naming each field) unless forced: resuming with
// another policy would mix two policies into one pass@k.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace swebox::runner {

// "field: recorded X, now Y" for each field of `now` that differs from `recorded`; objects (the
// episode config, sampling) are compared key by key ("config.max_turns: recorded 128, now 64").
std::vector<std::string> identity_differences(const nlohmann::json& recorded, const nlohmann::json& now);

// The swebox version text recorded with runs (the project version and, where the build knew it, git's).
std::string swebox_version();

}  // namespace swebox::runner
