// The edit tool's BODY: "path\n<<<<<<< SEARCH\n...\n=======\n...\n>>>>>>> REPLACE" blocks, and the
// snippet it answers with. Input: the BODY.
// Properties: no crash; a found block writes back (edit_body) to a BODY read as that same block.
#include "fuzz/fuzz_input.h"
#include "tools/builtin_tools.h"

using namespace swebox::tools;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view body = swebox::fuzz::as_text(data, size);
  std::vector<EditBlock> blocks = find_edit_blocks(body);
  for (const EditBlock& b : blocks) {
    FUZZ_CHECK(b.path.find('\n') == std::string::npos);
    std::vector<EditBlock> again = find_edit_blocks(edit_body(b));
    FUZZ_CHECK(again.size() >= 1 && again[0].path == b.path && again[0].search == b.search &&
               again[0].replace == b.replace);
  }
  std::string text = universal_newlines(body);
  FUZZ_CHECK(text.find('\r') == std::string::npos);
  long first = size ? static_cast<long>(data[0] % 64) - 8 : 1;
  (void)numbered_snippet(text, first, first + static_cast<long>(size % 40));
  return 0;
}
