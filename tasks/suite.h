// A suite: SWE-bench task instances read from JSONL or JSON (docs/formats.md §4.1).
// Every upstream field is typed here; `raw` keeps the whole record, unknown fields included, so a
// writer can round-trip what it read.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace swebox::tasks {

struct Instance {
  std::string repo;                      // "owner/name"
  std::string instance_id;               // "owner__name-PR"
  std::string base_commit;
  std::string patch;                     // gold patch (non-test files)
  std::string test_patch;
  std::string problem_statement;
  std::string hints_text;
  std::string created_at;
  std::string version;
  std::string environment_setup_commit;
  // Upstream stores these as JSON-encoded strings; lists are accepted too.
  std::vector<std::string> FAIL_TO_PASS;
  std::vector<std::string> PASS_TO_PASS;
  // v5 extras (empty when absent).
  std::string eval_script;
  std::string log_parser;
  std::string eval_type;                 // "pass_and_fail" | "fail_only" | ""
  std::string image;
  std::string difficulty;                // Verified only
  nlohmann::json raw;                    // the record as read
  std::string source;                    // "FILE:LINE" it came from (for error messages)

  // "owner__name": the directory name of the repository under --repos and in the cache.
  std::string repo_dir_name() const;
};

struct SuiteLoad {
  std::vector<Instance> instances;  // the good records, in file order (duplicates dropped after the first)
  std::vector<std::string> errors;  // "FILE:LINE: what is wrong" per bad record; an unreadable file is one error
};

// Reads a JSONL file (one record a line; blank lines skipped), a JSON array of records, or a JSON
// object (one record, or {instance_id: record, ...}). A bad record is reported and skipped; the
// others still load. Duplicate instance_ids are reported and only the first is kept.
SuiteLoad load_suite(const std::string& path);
// load_suite over a file's text; `path` names it in the errors.
SuiteLoad parse_suite(std::string_view text, const std::string& path);

// Parses one record; throws std::invalid_argument naming the field that is missing or mistyped.
Instance parse_instance(const nlohmann::json& record);

// Instances whose ids are in `ids`, in suite order. Ids not in the suite are appended to `missing`
// (when given) so the caller can say "unknown instance X". An empty `ids` keeps everything.
std::vector<Instance> filter_instances(const std::vector<Instance>& instances,
                                       const std::vector<std::string>& ids,
                                       std::vector<std::string>* missing = nullptr);

// Splits a --instances value: comma- or whitespace-separated ids, or "@FILE" with one id a line.
std::vector<std::string> parse_instance_ids(const std::string& spec);

}  // namespace swebox::tasks
