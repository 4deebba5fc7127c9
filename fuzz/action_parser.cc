// Tool calls: a policy's reply parsed by CWM's protocol (tools/action_parser). Input: one selector
// byte (think mode, strict format) then the reply.
// Properties: no crash; call blocks lie inside the text, in order, without overlap; a parsed call
// names an offered tool; strip() gives a part of its input.
#include <algorithm>

#include "fuzz/fuzz_input.h"
#include "tools/action_parser.h"

using namespace swebox::tools;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  uint8_t sel = data[0];
  std::string_view text = swebox::fuzz::as_text(data + 1, size - 1);
  ParseOptions o;
  o.tools = {"bash", "edit", "create", "submit", "python"};
  o.think = static_cast<ThinkMode>(sel % 3);
  bool strict = sel & 4;

  std::string_view reply = cut_at_stop_markers(text);
  FUZZ_CHECK(reply.data() == text.data() && reply.size() <= text.size());
  size_t last_end = 0;
  for (const CallMatch& m : find_call_blocks(reply)) {
    FUZZ_CHECK(m.begin >= last_end && m.begin <= m.end && m.end <= reply.size());
    last_end = m.end;
  }
  ParseResult r = parse_action(reply, o);
  if (auto* call = std::get_if<ToolCall>(&r))
    FUZZ_CHECK(std::find(o.tools.begin(), o.tools.end(), call->name) != o.tools.end());
  (void)is_final_summary(reply, r, o.think, strict);
  (void)answer_part(reply, o.think);
  std::string_view s = python_strip(reply);
  FUZZ_CHECK(s.data() >= reply.data() && s.data() + s.size() <= reply.data() + reply.size());
  for (size_t i = 0; i < reply.size(); ++i) FUZZ_CHECK(i + python_space_at(reply, i) <= reply.size());
  return 0;
}
