// JSONL files as the runner reopens them (--resume): the torn-tail repair of JsonlAppender, the
// line reader and the keys --resume skips. Input: the file's bytes.
// Properties: no crash; parse_jsonl and done_keys throw only std::runtime_error; after the repair the file is
// a prefix of the input ending at a line end, and a record appended to it reads back last.
#include <fcntl.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include "fuzz/fuzz_input.h"
#include "trajectories/writer.h"

using namespace swebox::traj;

namespace {
const std::string& scratch_file() {
  static const std::string path = [] {
    char tmpl[] = "/tmp/swebox-fuzz-jsonl-XXXXXX";
    int fd = mkstemp(tmpl);
    if (fd < 0) std::abort();
    close(fd);
    return std::string(tmpl);
  }();
  return path;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text = swebox::fuzz::as_text(data, size);
  try {
    (void)parse_jsonl(text, "fuzz.jsonl");
  } catch (const std::runtime_error&) {
  }
  std::ofstream(scratch_file(), std::ios::binary | std::ios::trunc) << text;
  size_t repaired;
  {
    JsonlAppender out(scratch_file(), false);
    repaired = out.repaired_bytes();
    FUZZ_CHECK(repaired <= size);
    out.append({{"fuzz", "last"}});
  }
  try {
    (void)done_keys(scratch_file());  // what --resume reads
  } catch (const std::runtime_error&) {
  }
  std::ifstream in(scratch_file(), std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  std::string after = s.str();
  size_t kept = size - repaired;
  FUZZ_CHECK(after.compare(0, kept, text.substr(0, kept)) == 0);
  FUZZ_CHECK(kept == 0 || text[kept - 1] == '\n');
  std::string_view last = std::string_view(after).substr(kept);
  FUZZ_CHECK(last == "{\"fuzz\":\"last\"}\n");
  return 0;
}
