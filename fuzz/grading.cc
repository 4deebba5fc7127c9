// Grading a test log (tasks/grading): markers, exit code, the status map, F2P/P2P verdicts.
// Input: one selector byte (parser, rule set, eval type), then the F2P ids one a line, \0, the P2P
// ids one a line, \0, the log.
// Properties: no crash, no uncaught exception; rates in [0,1]; only a gradeable log resolves;
// report.json's "tests_status" dumps as JSON.
#include <nlohmann/json.hpp>

#include "fuzz/fuzz_input.h"
#include "tasks/grading.h"
#include "tasks/python_str.h"

using namespace swebox::tasks;

namespace {
std::vector<std::string> ids(std::string_view lines) {
  std::vector<std::string> out;
  for (std::string_view l : pystr::split(lines, "\n"))
    if (!l.empty()) out.emplace_back(l);
  return out;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  static const std::vector<std::string> parsers = known_parsers();
  uint8_t sel = data[0];
  auto p = swebox::fuzz::parts(swebox::fuzz::as_text(data + 1, size - 1), 3);
  GradingOptions o;
  o.v4_1_compat = sel & 1;
  o.eval_type = sel & 2 ? EvalType::fail_only : EvalType::pass_and_fail;
  o.calculate_to_fail = sel & 4;
  const std::string& parser = parsers[(sel >> 3) % parsers.size()];
  Grade g = grade_log(p[2], ids(p[0]), ids(p[1]), parser, o);
  FUZZ_CHECK(g.f2p_rate >= 0 && g.f2p_rate <= 1 && g.p2p_rate >= 0 && g.p2p_rate <= 1);
  FUZZ_CHECK(!g.resolved || g.gradeable);
  FUZZ_CHECK(g.gradeable || g.tests_status.fail_to_pass.success.empty());
  (void)tests_status_json(g.tests_status).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  (void)to_string(g.resolution);
  return 0;
}
