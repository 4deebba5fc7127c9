// Exporters: the swebox record (record.h) in the formats other tools read.
//   predictions   SWE-bench predictions JSONL {instance_id, model_name_or_path, model_patch}
//   chat          OpenAI chat-messages JSONL for SFT {"messages":[{role,content}...], ...}
//   mini          mini-swe-agent's <iid>.traj.json (trajectory_format "mini-swe-agent-1.1")
//   cwm           CWM's rollout dump line {"rollouts":[{"traj":{"transitions":[...]}, ...}], "metrics":[...]}
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "trajectories/record.h"

namespace swebox::traj {

nlohmann::json to_prediction(const Episode& e);
nlohmann::json to_chat_messages(const Episode& e);
nlohmann::json to_mini_swe_agent(const Episode& e);
nlohmann::json to_cwm_dump(const Episode& e);

// mini-swe-agent's exit status words for ours (Submitted, LimitsExceeded, TimeExceeded, ...).
std::string mini_swe_agent_exit_status(ExitStatus s);

// File writers (whole file written to a temp name, then renamed). Return the records written.
// predictions: one per instance (its lowest sample), as SWE-bench's harness needs unique ids;
// all_samples adds a "sample" field and keeps every episode. Infra-error episodes are left out: the
// infrastructure failed, the model predicted nothing.
size_t write_predictions(const std::vector<Episode>& episodes, const std::string& path, bool all_samples = false);
size_t write_chat_messages(const std::vector<Episode>& episodes, const std::string& path, bool resolved_only = false);
// One <instance_id>.traj.json per episode (…__sN.traj.json when an instance has several samples).
size_t write_mini_swe_agent(const std::vector<Episode>& episodes, const std::string& dir);
size_t write_cwm_dump(const std::vector<Episode>& episodes, const std::string& path);

}  // namespace swebox::traj
