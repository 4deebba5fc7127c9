// Tool calls in OpenAI function-calling form: the function's name and its arguments' JSON text as
// a chat policy's server returned them. Input: one selector byte (tool name) then the arguments.
// Properties: no crash; only std::invalid_argument for bad arguments; a call converted to
// arguments (to_openai_arguments) converts back to the same call.
#include <stdexcept>

#include "fuzz/fuzz_input.h"
#include "tools/openai_form.h"

using namespace swebox::tools;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  static const char* names[] = {"bash", "edit", "create", "submit", "python", "nope"};
  std::string name = names[data[0] % 6];
  std::string args(swebox::fuzz::as_text(data + 1, size - 1));
  ToolCall call;
  try {
    call = from_openai_call(name, args);
  } catch (const std::invalid_argument&) {
    return 0;
  }
  FUZZ_CHECK(call.name == name);
  ToolCall again = from_openai_call(call.name, to_openai_arguments(call));
  FUZZ_CHECK(again == call);
  return 0;
}
