// A profile: which environment an episode reproduces, as one switch. `swebox` (the default) keeps
// this project's choices where they serve users better; `cwm` reproduces CWM's released environment
// wherever the two differ (docs/profiles.md, side by side). Every setting a profile decides is made
// here, in apply_profile and toolset_config, and nowhere else; flags given on the command line are
// applied after it and win.
#pragma once

#include <string>
#include <string_view>

#include "tools/toolset.h"

namespace swebox::runner {

enum class Profile { swebox, cwm };

const char* to_string(Profile p);
// Throws std::invalid_argument naming the accepted values.
Profile parse_profile(std::string_view name);

struct EpisodeConfig;
struct PolicyOptions;

// The profile's defaults for the episode and the policy (before explicit flags are applied).
void apply_profile(Profile p, EpisodeConfig& episode, PolicyOptions& policy);

// The tools' behaviour for an episode (its profile and its own flags).
tools::ToolsetConfig toolset_config(const EpisodeConfig& episode);

}  // namespace swebox::runner
