#include <map>

#include "trajectories/export.h"
#include "trajectories/writer.h"

namespace swebox::traj {

using nlohmann::json;

json to_prediction(const Episode& e) {
  return {{"instance_id", e.instance_id},
          {"model_name_or_path", e.model.empty() ? e.policy : e.model},
          {"model_patch", e.terminal.judged_patch()}};
}

size_t write_predictions(const std::vector<Episode>& episodes, const std::string& path, bool all_samples) {
  std::string out;
  size_t n = 0;
  if (all_samples) {
    for (const Episode& e : episodes) {
      if (e.outcome() == Outcome::infra_error) continue;
      json p = to_prediction(e);
      p["sample"] = e.sample;
      out += dump_line(p) + "\n";
      ++n;
    }
  } else {
    std::map<std::string, const Episode*> first;  // lowest sample per instance, in id order
    for (const Episode& e : episodes) {
      if (e.outcome() == Outcome::infra_error) continue;
      auto [it, fresh] = first.emplace(e.instance_id, &e);
      if (!fresh && e.sample < it->second->sample) it->second = &e;
    }
    for (const auto& [iid, e] : first) {
      out += dump_line(to_prediction(*e)) + "\n";
      ++n;
    }
  }
  write_file_atomically(path, out);
  return n;
}

}  // namespace swebox::traj
