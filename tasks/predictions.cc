#include "tasks/predictions.h"

#include <nlohmann/json.hpp>

#include "tasks/instance_records.h"

namespace swebox::tasks {

namespace {

std::vector<Prediction> predictions_of(const std::vector<InstanceRecord>& records, std::vector<std::string>& errors) {
  std::vector<Prediction> out;
  for (const InstanceRecord& item : records) {
    if (!item.error.empty()) {
      errors.push_back(item.where + ": " + item.error);
      continue;
    }
    const nlohmann::json& rec = item.value;
    if (!rec.is_object() || !rec.contains("instance_id") || !rec["instance_id"].is_string()) {
      errors.push_back(item.where + ": a prediction needs a string instance_id");
      continue;
    }
    Prediction p;
    p.instance_id = rec["instance_id"];
    p.model_name_or_path = rec.contains("model_name_or_path") && rec["model_name_or_path"].is_string()
                               ? rec["model_name_or_path"].get<std::string>()
                               : "unknown-model";
    if (rec.contains("model_patch") && rec["model_patch"].is_string()) p.model_patch = rec["model_patch"].get<std::string>();
    else if (rec.contains("model_patch") && !rec["model_patch"].is_null()) {
      errors.push_back(item.where + ": model_patch must be a string or null");
      continue;
    }
    out.push_back(std::move(p));
  }
  return out;
}

}  // namespace

std::vector<Prediction> parse_predictions(std::string_view text, const std::string& name,
                                          std::vector<std::string>& errors) {
  return predictions_of(parse_instance_records(text, name), errors);
}

std::vector<Prediction> read_predictions(const std::string& path, std::vector<std::string>& errors) {
  return predictions_of(read_instance_records(path), errors);
}

}  // namespace swebox::tasks
