#include "tasks/suite.h"

#include <algorithm>
#include <fstream>
#include <set>
#include <sstream>
#include <stdexcept>
#include <unordered_set>

#include "tasks/instance_records.h"

namespace swebox::tasks {
namespace {

using nlohmann::json;

std::string string_field(const json& record, const char* name, bool required) {
  auto it = record.find(name);
  if (it == record.end() || it->is_null()) {
    if (required) throw std::invalid_argument(std::string("missing field \"") + name + "\"");
    return {};
  }
  if (!it->is_string())
    throw std::invalid_argument(std::string("field \"") + name + "\" must be a string, got " +
                                it->type_name());
  return it->get<std::string>();
}

// FAIL_TO_PASS / PASS_TO_PASS: upstream keeps a JSON-encoded string; lists are accepted too. The
// field must be there: an instance without it would grade "resolved" on 0 of 0 tests. An explicit
// empty list ("[]" or []) is an instance that checks only the other list.
std::vector<std::string> test_list_field(const json& record, const char* name) {
  auto it = record.find(name);
  if (it == record.end() || it->is_null())
    throw std::invalid_argument(std::string("missing field \"") + name +
                                "\" (the tests that decide resolution; write [] for none)");
  json list = *it;
  if (list.is_string()) {
    const std::string& text = it->get_ref<const std::string&>();
    if (text.find_first_not_of(" \t\r\n") == std::string::npos)
      throw std::invalid_argument(std::string("field \"") + name + "\" is an empty string (write \"[]\" for no tests)");
    try {
      list = json::parse(text);
    } catch (const json::exception&) {
      throw std::invalid_argument(std::string("field \"") + name +
                                  "\" is a string but not a JSON-encoded list of test ids");
    }
  }
  if (!list.is_array())
    throw std::invalid_argument(std::string("field \"") + name +
                                "\" must be a list of test ids (or a JSON string holding one)");
  std::vector<std::string> ids;
  ids.reserve(list.size());
  for (const auto& id : list) {
    if (!id.is_string())
      throw std::invalid_argument(std::string("field \"") + name + "\" holds a " + id.type_name() +
                                  "; test ids must be strings");
    ids.push_back(id.get<std::string>());
  }
  return ids;
}

void add_record(SuiteLoad& load, std::unordered_set<std::string>& seen, const InstanceRecord& item) {
  const std::string& where = item.where;
  if (!item.error.empty()) {
    load.errors.push_back(where + ": " + item.error);
    return;
  }
  const json& record = item.value;
  if (!record.is_object()) {
    load.errors.push_back(where + ": a task instance must be a JSON object, got " + record.type_name());
    return;
  }
  Instance inst;
  try {
    inst = parse_instance(record);
  } catch (const std::exception& e) {
    std::string id = record.contains("instance_id") && record["instance_id"].is_string()
                         ? " (" + record["instance_id"].get<std::string>() + ")"
                         : "";
    load.errors.push_back(where + id + ": " + e.what());
    return;
  }
  inst.source = where;
  if (!seen.insert(inst.instance_id).second) {
    std::string first;
    for (const auto& i : load.instances)
      if (i.instance_id == inst.instance_id) first = i.source;
    load.errors.push_back(where + ": duplicate instance_id " + inst.instance_id + " (first at " + first +
                          "); this one is skipped");
    return;
  }
  load.instances.push_back(std::move(inst));
}

}  // namespace

std::string Instance::repo_dir_name() const {
  std::string name = repo;
  if (auto slash = name.find('/'); slash != std::string::npos) name.replace(slash, 1, "__");
  return name;
}

Instance parse_instance(const json& record) {
  if (!record.is_object()) throw std::invalid_argument("a task instance must be a JSON object");
  Instance inst;
  inst.instance_id = string_field(record, "instance_id", true);
  if (inst.instance_id.empty()) throw std::invalid_argument("field \"instance_id\" is empty");
  // It names folders (reports, logs): no separator, no parent.
  if (inst.instance_id.find('/') != std::string::npos || inst.instance_id == "." || inst.instance_id == "..")
    throw std::invalid_argument("field \"instance_id\" must be usable as a folder name (no '/', not . or ..), got \"" +
                                inst.instance_id + "\"");
  inst.repo = string_field(record, "repo", true);
  if (inst.repo.find('/') == std::string::npos || inst.repo.front() == '/' || inst.repo.back() == '/' ||
      inst.repo.find("..") != std::string::npos)
    throw std::invalid_argument("field \"repo\" must look like \"owner/name\", got \"" + inst.repo + "\"");
  inst.base_commit = string_field(record, "base_commit", true);
  if (inst.base_commit.size() < 4 || inst.base_commit.size() > 40 ||
      inst.base_commit.find_first_not_of("0123456789abcdefABCDEF") != std::string::npos)
    throw std::invalid_argument("field \"base_commit\" must be a hex commit id, got \"" + inst.base_commit + "\"");
  inst.patch = string_field(record, "patch", false);
  inst.test_patch = string_field(record, "test_patch", false);
  inst.problem_statement = string_field(record, "problem_statement", false);
  inst.hints_text = string_field(record, "hints_text", false);
  inst.created_at = string_field(record, "created_at", false);
  // Some exports store version as a number (e.g. 3.1); keep its text.
  if (auto v = record.find("version"); v != record.end() && v->is_number())
    inst.version = v->dump();
  else
    inst.version = string_field(record, "version", false);
  inst.environment_setup_commit = string_field(record, "environment_setup_commit", false);
  inst.FAIL_TO_PASS = test_list_field(record, "FAIL_TO_PASS");
  inst.PASS_TO_PASS = test_list_field(record, "PASS_TO_PASS");
  inst.eval_script = string_field(record, "eval_script", false);
  inst.log_parser = string_field(record, "log_parser", false);
  inst.eval_type = string_field(record, "eval_type", false);
  inst.image = string_field(record, "image", false);
  inst.difficulty = string_field(record, "difficulty", false);
  inst.raw = record;
  return inst;
}

SuiteLoad load_suite(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    SuiteLoad load;
    load.errors.push_back(path + ": cannot open the suite file (check the path given to --suite)");
    return load;
  }
  std::stringstream buffer;
  buffer << in.rdbuf();
  return parse_suite(buffer.str(), path);
}

SuiteLoad parse_suite(std::string_view text, const std::string& path) {
  SuiteLoad load;
  if (text.find_first_not_of(" \t\r\n") == std::string_view::npos) {
    load.errors.push_back(path + ": the suite file is empty");
    return load;
  }
  std::unordered_set<std::string> seen;
  for (const InstanceRecord& item : parse_instance_records(text, path)) add_record(load, seen, item);
  return load;
}

std::vector<Instance> filter_instances(const std::vector<Instance>& instances,
                                       const std::vector<std::string>& ids,
                                       std::vector<std::string>* missing) {
  if (ids.empty()) return instances;
  std::set<std::string> wanted(ids.begin(), ids.end());
  std::vector<Instance> kept;
  std::set<std::string> found;
  for (const auto& inst : instances)
    if (wanted.count(inst.instance_id)) {
      kept.push_back(inst);
      found.insert(inst.instance_id);
    }
  if (missing)
    for (const auto& id : ids)
      if (!found.count(id) && std::find(missing->begin(), missing->end(), id) == missing->end())
        missing->push_back(id);
  return kept;
}

std::vector<std::string> parse_instance_ids(const std::string& spec) {
  std::string text = spec;
  if (!spec.empty() && spec[0] == '@') {
    std::ifstream in(spec.substr(1));
    if (!in) throw std::invalid_argument("cannot read the instance list " + spec.substr(1));
    std::stringstream buffer;
    buffer << in.rdbuf();
    text = buffer.str();
  }
  std::vector<std::string> ids;
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    line = line.substr(0, line.find('#'));  // "# comment" lines in an @FILE
    std::string current;
    for (char c : line + ",") {
      if (c == ',' || c == ' ' || c == '\t' || c == '\r') {
        if (!current.empty()) ids.push_back(current);
        current.clear();
      } else {
        current += c;
      }
    }
  }
  return ids;
}

}  // namespace swebox::tasks
