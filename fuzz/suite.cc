// Suite files (JSONL / JSON records of task instances), as `--suite` reads them.
// Properties: no crash, no uncaught exception; every error and every loaded record dumps as strict
// JSON (the errors go into the run's summary: invalid UTF-8 there would abort the run).
#include <nlohmann/json.hpp>

#include "fuzz/fuzz_input.h"
#include "tasks/suite.h"

using namespace swebox;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text = fuzz::as_text(data, size);
  tasks::SuiteLoad load = tasks::parse_suite(text, "fuzz.jsonl");
  nlohmann::json out = {{"suite_errors", load.errors}};
  std::vector<std::string> ids;
  for (const tasks::Instance& inst : load.instances) {
    FUZZ_CHECK(!inst.instance_id.empty());
    ids.push_back(inst.instance_id);
    out["instances"].push_back({{"id", inst.instance_id}, {"dir", inst.repo_dir_name()}, {"raw", inst.raw}});
    // A loaded record parses again to the same instance.
    FUZZ_CHECK(tasks::parse_instance(inst.raw).instance_id == inst.instance_id);
  }
  (void)out.dump();  // strict: throws (and so aborts) on invalid UTF-8
  std::vector<std::string> missing;
  auto kept = tasks::filter_instances(load.instances, ids, &missing);
  FUZZ_CHECK(kept.size() == load.instances.size() && missing.empty());
  if (!text.empty() && text[0] != '@') (void)tasks::parse_instance_ids(std::string(text));  // '@' reads a file
  return 0;
}
