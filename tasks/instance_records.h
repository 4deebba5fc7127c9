// Files of records about instances, in the shapes SWE-bench's tools write them: suites,
// predictions, similarity contexts. One reader for all of them:
//   JSONL (one record a line, blank lines skipped), a JSON array of records, or a JSON object:
//   one record (it has "instance_id") or {instance_id: record, ...} (the key fills a missing
//   "instance_id").
// What a record must hold is the caller's to check (tasks/suite.h, tasks/predictions.h).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace swebox::tasks {

struct InstanceRecord {
  std::string where;     // "NAME:LINE" of the record's first character
  nlohmann::json value;  // the parsed record (any JSON value); unset when `error` is not empty
  std::string error;     // why this place holds no record ("invalid JSON: ...", "unterminated array ..."),
                         // valid UTF-8 (it may quote the file's bytes and ends up in JSON reports)
};

// Every record of `text` in file order, then structural damage of an array or object (each as an
// entry with an error). `name` (the file's path) prefixes every `where`. Never throws.
std::vector<InstanceRecord> parse_instance_records(std::string_view text, const std::string& name);

// parse_instance_records over a file; throws std::runtime_error naming it when it cannot be read.
std::vector<InstanceRecord> read_instance_records(const std::string& path);

}  // namespace swebox::tasks
