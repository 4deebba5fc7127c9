#include "tasks/predictions.h"

#include <fstream>
#include <sstream>
#include <stdexcept>

#include <nlohmann/json.hpp>

#include "sandbox/text_encoding.h"

namespace swebox::tasks {

std::vector<Prediction> parse_predictions(std::string_view text_view, const std::string& name,
                                          std::vector<std::string>& errors) {
  const std::string text(text_view);
  std::vector<nlohmann::json> records;
  std::vector<std::string> where;
  try {
    nlohmann::json whole = nlohmann::json::parse(text);
    if (whole.is_array()) {
      for (size_t i = 0; i < whole.size(); ++i) records.push_back(whole[i]), where.push_back(name + "[" + std::to_string(i) + "]");
    } else if (whole.is_object() && whole.contains("instance_id")) {
      records.push_back(whole), where.push_back(name);
    } else if (whole.is_object()) {
      for (auto& [k, v] : whole.items()) {
        nlohmann::json rec = v;
        if (rec.is_object() && !rec.contains("instance_id")) rec["instance_id"] = k;
        records.push_back(rec), where.push_back(name + ":" + k);
      }
    }
  } catch (const nlohmann::json::exception&) {
    std::istringstream lines(text);
    int n = 0;
    for (std::string line; std::getline(lines, line);) {
      ++n;
      if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
      try {
        records.push_back(nlohmann::json::parse(line)), where.push_back(name + ":" + std::to_string(n));
      } catch (const std::exception& e) {
        // nlohmann's message quotes the bytes it last read, which may be invalid UTF-8; the errors
        // end up in the run's summary JSON, whose dump would throw on them.
        errors.push_back(name + ":" + std::to_string(n) + ": not JSON (" + sandbox::to_valid_utf8(e.what()) + ")");
      }
    }
  }
  std::vector<Prediction> out;
  for (size_t i = 0; i < records.size(); ++i) {
    const auto& rec = records[i];
    if (!rec.is_object() || !rec.contains("instance_id") || !rec["instance_id"].is_string()) {
      errors.push_back(where[i] + ": a prediction needs a string instance_id");
      continue;
    }
    Prediction p;
    p.instance_id = rec["instance_id"];
    p.model_name_or_path = rec.contains("model_name_or_path") && rec["model_name_or_path"].is_string()
                               ? rec["model_name_or_path"].get<std::string>()
                               : "unknown-model";
    if (rec.contains("model_patch") && rec["model_patch"].is_string()) p.model_patch = rec["model_patch"].get<std::string>();
    else if (rec.contains("model_patch") && !rec["model_patch"].is_null()) {
      errors.push_back(where[i] + ": model_patch must be a string or null");
      continue;
    }
    out.push_back(std::move(p));
  }
  return out;
}

std::vector<Prediction> read_predictions(const std::string& path, std::vector<std::string>& errors) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read predictions file " + path);
  std::string text((std::istreambuf_iterator<char>(in)), {});
  return parse_predictions(text, path, errors);
}

}  // namespace swebox::tasks
