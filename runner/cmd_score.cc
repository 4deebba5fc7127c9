// `swebox score`: rewards without running anything.
//   similarity  SWE-RL's similarity (docs/formats.md §5.1) of each prediction against its instance's gold
//               patch, one JSON line per prediction.
//   log         grades a test_output.txt with SWE-bench's rules (docs/formats.md §4.3) for one instance.
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "runner/command_line.h"
#include "tasks/grading.h"
#include "tasks/instance_records.h"
#include "tasks/log_parsers.h"
#include "tasks/similarity_reward.h"
#include "tasks/suite.h"

using swebox::runner::print_error;

namespace {

using nlohmann::json;
using namespace swebox::tasks;

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path + ": check the path");
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The records of a predictions or contexts file (tasks/instance_records.h); bad ones are reported
// in `errors` as "FILE:LINE: ..." and skipped.
std::vector<json> read_records(const std::string& path, std::vector<std::string>& errors) {
  std::vector<json> out;
  for (InstanceRecord& r : read_instance_records(path)) {
    if (r.error.empty()) out.push_back(std::move(r.value));
    else errors.push_back(r.where + ": " + r.error);
  }
  return out;
}

std::map<std::string, Instance> load_instances(const std::string& path) {
  SuiteLoad load = load_suite(path);
  for (const std::string& e : load.errors) print_error("swebox score: %s\n", e.c_str());
  std::map<std::string, Instance> by_id;
  for (Instance& i : load.instances) by_id.emplace(i.instance_id, std::move(i));
  return by_id;
}

FileContents contents_of(const json& j, const std::string& what) {
  FileContents out;
  if (!j.is_object()) throw std::invalid_argument(what + " must be an object {path: content}");
  for (auto& [path, content] : j.items()) out[path] = content.get<std::string>();
  return out;
}

int score_similarity(const std::string& suite_path, const std::string& predictions_path, const std::string& form,
                     const std::string& contexts_path, bool ignore_extra) {
  std::map<std::string, Instance> instances = load_instances(suite_path);
  std::vector<std::string> errors;
  std::vector<json> predictions = read_records(predictions_path, errors);
  std::map<std::string, json> contexts;
  if (form == "search-replace") {
    if (contexts_path.empty()) throw std::invalid_argument("--form search-replace needs --contexts FILE");
    for (json& c : read_records(contexts_path, errors))
      if (c.is_object() && c.contains("instance_id")) contexts[c["instance_id"].get<std::string>()] = c;
  }
  for (const std::string& e : errors) print_error("swebox score: %s\n", e.c_str());
  int bad = 0;
  for (const json& p : predictions) {
    json line;
    std::string id = p.is_object() && p.contains("instance_id") && p["instance_id"].is_string()
                         ? p["instance_id"].get<std::string>()
                         : "";
    line["instance_id"] = id;
    try {
      if (id.empty()) throw std::invalid_argument("prediction without an instance_id");
      auto inst = instances.find(id);
      if (inst == instances.end()) throw std::invalid_argument("instance '" + id + "' is not in " + suite_path);
      std::string patch = p.contains("model_patch") && p["model_patch"].is_string() ? p["model_patch"].get<std::string>() : "";
      SimilarityResult r;
      if (form == "unidiff") {
        r = unidiff_reward(inst->second.patch, patch, ignore_extra);
      } else {
        auto c = contexts.find(id);
        if (c == contexts.end()) throw std::invalid_argument("instance '" + id + "' is not in " + contexts_path);
        r = search_replace_reward(contents_of(c->second.at("original"), "original"),
                                  contents_of(c->second.at("oracle"), "oracle"), patch);
      }
      line["reward"] = r.reward;
      json files = json::array();
      for (const FileSimilarity& f : r.files) files.push_back({{"path", f.path}, {"similarity", f.similarity}});
      line["files"] = files;
      if (!r.error.empty()) line["error"] = r.error;
    } catch (const std::exception& e) {
      line["reward"] = nullptr;
      line["error"] = e.what();
      ++bad;
    }
    // Paths and messages come from the scored patch and may hold any bytes; dump() would throw on
    // invalid UTF-8 (type_error 316), so such bytes are replaced.
    std::printf("%s\n", line.dump(-1, ' ', false, json::error_handler_t::replace).c_str());
  }
  return bad ? 1 : 0;
}

int score_log(const std::string& suite_path, const std::string& instance_id, const std::string& log_path, bool v4_1) {
  std::map<std::string, Instance> instances = load_instances(suite_path);
  auto it = instances.find(instance_id);
  if (it == instances.end()) throw std::invalid_argument("instance '" + instance_id + "' is not in " + suite_path);
  const Instance& inst = it->second;
  std::string parser = inst.log_parser.empty() ? parser_for_repo(inst.repo) : inst.log_parser;
  if (parser.empty())
    throw std::invalid_argument("instance '" + instance_id + "' has no log_parser and repository '" + inst.repo +
                                "' is not in SWE-bench's parser table");
  GradingOptions options;
  options.eval_type = parse_eval_type(inst.eval_type);
  options.v4_1_compat = v4_1;
  Grade g = grade_log(read_file(log_path), inst.FAIL_TO_PASS, inst.PASS_TO_PASS, parser, options);
  nlohmann::ordered_json out;
  out["instance_id"] = instance_id;
  out["gradeable"] = g.gradeable;
  if (!g.gradeable) out["ungradeable_reason"] = g.ungradeable_reason;
  out["resolved"] = g.resolved;
  out["resolution"] = swebench_name(g.resolution);
  if (g.gradeable) out["tests_status"] = tests_status_json(g.tests_status);
  std::printf("%s\n", out.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace).c_str());
  return 0;
}

}  // namespace

int cmd_score(int argc, char** argv) {
  using namespace swebox::runner;
  std::string suite, predictions, form = "unidiff", contexts, instance, log;
  bool ignore_extra = false, v4_1 = false;
  CLI::App app{"", "swebox score"};
  describe_command(app, "Rewards without running anything: SWE-RL's patch similarity, or a test log graded by SWE-bench's rules.",
                   {"swebox score similarity --suite suite.jsonl --predictions runs/qwen/predictions.jsonl",
                    "swebox score similarity --suite suite.jsonl --predictions replies.jsonl --form search-replace --contexts contexts.jsonl",
                    "swebox score log --suite suite.jsonl --instance django__django-11099 --log test_output.txt"});
  app.require_subcommand(1);
  CLI::App* similarity = app.add_subcommand(
      "similarity",
      "one JSON line per prediction: {instance_id, reward, files: [{path, similarity}]} (+ error); exit 1 when a "
      "prediction could not be scored");
  similarity->add_option("--suite", suite, "instances (JSONL or JSON)")->type_name("FILE")->required();
  similarity
      ->add_option("--predictions", predictions,
                   "SWE-bench predictions: JSONL, a JSON list, or an object keyed by id, of {instance_id, "
                   "model_name_or_path, model_patch}")
      ->type_name("FILE")
      ->required();
  similarity
      ->add_option("--form", form,
                   "unidiff: model_patch against the gold patch; search-replace: model_patch as a SWE-RL reply "
                   "(<think>...</think><solution>SEARCH/REPLACE blocks</solution>) against --contexts")
      ->type_name("FORM")
      ->check(CLI::IsMember({"unidiff", "search-replace"}).description(""))
      ->capture_default_str();
  similarity->add_option("--contexts", contexts, "JSONL of {instance_id, original: {path: content}, oracle: {path: content}}")
      ->type_name("FILE");
  similarity->add_flag("--ignore-extra-files", ignore_extra, "extra predicted files do not score 0 (CWM)");
  CLI::App* log_command = app.add_subcommand(
      "log", "grades a test log: prints {instance_id, gradeable, [ungradeable_reason], resolved, resolution, tests_status}");
  log_command->add_option("--suite", suite, "instances (JSONL or JSON)")->type_name("FILE")->required();
  log_command->add_option("--instance", instance, "the instance whose tests the log ran")->type_name("ID")->required();
  log_command->add_option("--log", log, "test output, e.g. test_output.txt")->type_name("FILE")->required();
  log_command->add_flag("--v4.1", v4_1, "grade with SWE-bench v4.1's rules (SKIPPED neither passes nor fails)");
  add_deprecated_flag(*log_command, "--v41", "--v4.1", &v4_1);
  if (auto status = parse_command_line(app, argc, argv)) return *status;

  if (similarity->parsed()) {
    if (form == "search-replace" && contexts.empty()) {
      print_error("swebox score: --form search-replace needs --contexts FILE\n");
      return 2;
    }
    return score_similarity(suite, predictions, form, contexts, ignore_extra);
  }
  return score_log(suite, instance, log, v4_1);
}
