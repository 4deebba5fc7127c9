// SWE-bench predictions files (docs/formats.md §4.5's input): JSONL, a JSON list, or a JSON object keyed by
// instance id (read by tasks/instance_records.h), each record {instance_id, model_name_or_path, model_patch}.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "tasks/evaluation.h"

namespace swebox::tasks {

// Parses a predictions file's text; `name` (the file's path) prefixes each error. A bad record is
// reported in `errors` ("NAME:LINE: what is wrong", valid UTF-8) and skipped; the others still load.
std::vector<Prediction> parse_predictions(std::string_view text, const std::string& name,
                                          std::vector<std::string>& errors);

// parse_predictions over a file; throws std::runtime_error naming it when it cannot be read.
std::vector<Prediction> read_predictions(const std::string& path, std::vector<std::string>& errors);

}  // namespace swebox::tasks
