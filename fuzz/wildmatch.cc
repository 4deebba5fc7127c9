// .gitignore globs (tasks/wildmatch): the agent writes .gitignore and .git/info/exclude, and the
// judge matches every path of the workspace against them. Input: one selector byte (pathname
// mode), PATTERN \0 TEXT.
// Properties: no crash; linear time (libFuzzer's -timeout); a pattern without glob characters
// matches itself.
#include "fuzz/fuzz_input.h"
#include "tasks/wildmatch.h"

using namespace swebox::tasks;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  bool pathname = data[0] & 1;
  auto p = swebox::fuzz::parts(swebox::fuzz::as_text(data + 1, size - 1), 2);
  Wildmatch m(p[0], pathname);
  (void)m.matches(p[1]);
  (void)m.matches(p[0]);
  if (!p[0].empty() && p[0].size() <= Wildmatch::kMaxPattern && p[0].find_first_of("*?[\\") == std::string_view::npos)
    FUZZ_CHECK(m.usable() && m.matches(p[0]));
  return 0;
}
