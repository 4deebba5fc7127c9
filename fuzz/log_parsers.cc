// Test logs: what the tests printed, which the agent's code controls. Input: one selector byte
// (which parser, of known_parsers()) then the log.
// Properties: no crash, no uncaught exception, no ReDoS (libFuzzer's -timeout).
#include "fuzz/fuzz_input.h"
#include "tasks/log_parsers.h"

using namespace swebox::tasks;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  static const std::vector<std::string> parsers = known_parsers();
  const std::string& name = parsers[data[0] % parsers.size()];
  std::string_view log = swebox::fuzz::as_text(data + 1, size - 1);
  StatusMap m = parse_log(name, log);
  for (const auto& [id, status] : m) (void)to_string(status);
  (void)parser_for_repo(log);
  return 0;
}
