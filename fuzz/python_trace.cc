// CWM's trace text (trajectories/python_trace): parse_trace on any text (a model's predicted trace,
// a dataset's), then render and parse again. Input: the text.
// Properties: no crash; a text that does not parse says why; what parses renders to a text that
// parses back to the same frames and renders the same again (render . parse is idempotent);
// resolve_trace_locals either resolves or says why; python_json_string's output is a JSON string.
#include <nlohmann/json.hpp>

#include "fuzz/fuzz_input.h"
#include "trajectories/python_trace.h"

using namespace swebox::traj;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text = swebox::fuzz::as_text(data, size);
  std::string why;
  std::optional<Trace> trace = parse_trace(text, &why);
  if (!trace) {
    FUZZ_CHECK(!why.empty());
  } else {
    std::string once = render_trace(*trace);
    std::optional<Trace> again = parse_trace(once, &why);
    FUZZ_CHECK(again.has_value());
    FUZZ_CHECK(again->complete == trace->complete);
    FUZZ_CHECK(again->context == trace->context);
    FUZZ_CHECK(again->frames.size() == trace->frames.size());
    for (size_t i = 0; i < trace->frames.size(); ++i) FUZZ_CHECK(same_frame(again->frames[i], trace->frames[i]));
    FUZZ_CHECK(render_trace(*again) == once);
    why.clear();
    if (!resolve_trace_locals(*trace, &why)) FUZZ_CHECK(!why.empty());
  }
  nlohmann::json j = nlohmann::json::parse(python_json_string(text), nullptr, false);
  FUZZ_CHECK(j.is_string());
  return 0;
}
