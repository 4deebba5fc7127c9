// SWE-bench predictions files, as `swebox eval --predictions` reads them.
// Properties: no crash, no uncaught exception; the errors dump as strict JSON (they go into the
// run's summary); whatever model name a record carries (SWE-bench keeps "" as it is), the report
// folder it names is one folder inside --out.
#include <nlohmann/json.hpp>

#include "fuzz/fuzz_input.h"
#include "tasks/predictions.h"
#include "tasks/reports.h"

using namespace swebox;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::vector<std::string> errors;
  auto predictions = tasks::parse_predictions(fuzz::as_text(data, size), "fuzz.jsonl", errors);
  nlohmann::json out = {{"prediction_errors", errors}};
  for (const auto& p : predictions) {
    const std::string dir = tasks::model_dir_name(p.model_name_or_path);
    FUZZ_CHECK(!dir.empty() && dir != "." && dir != ".." && dir.find('/') == std::string::npos);
    out["predictions"].push_back({{"instance_id", p.instance_id}, {"model", p.model_name_or_path},
                                  {"patch", p.model_patch ? nlohmann::json(*p.model_patch) : nlohmann::json()}});
  }
  (void)out.dump();  // strict: throws (and so aborts) on invalid UTF-8
  return 0;
}
