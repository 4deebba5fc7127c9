// The difflib port the rewards are computed with, over two texts (the agent's change and the
// oracle's). Input: A \0 B.
// Properties: no crash; matching blocks are real matches, in order, ending with the sentinel;
// opcodes tile both sequences; ratios lie in [0,1].
#include "fuzz/fuzz_input.h"
#include "tasks/difflib.h"
#include "tasks/python_str.h"

using namespace swebox::tasks;

namespace {

template <class Seq>
void check(difflib::SequenceMatcher& m, const Seq& a, const Seq& b) {
  const auto& blocks = m.get_matching_blocks();
  FUZZ_CHECK(!blocks.empty());
  size_t ai = 0, bi = 0;
  for (size_t i = 0; i + 1 < blocks.size(); ++i) {
    const auto& k = blocks[i];
    FUZZ_CHECK(k.a >= ai && k.b >= bi && k.a + k.size <= a.size() && k.b + k.size <= b.size());
    for (size_t x = 0; x < k.size; ++x) FUZZ_CHECK(a[k.a + x] == b[k.b + x]);
    ai = k.a + k.size, bi = k.b + k.size;
  }
  FUZZ_CHECK(blocks.back() == (difflib::Match{a.size(), b.size(), 0}));
  size_t i = 0, j = 0;
  for (const auto& op : m.get_opcodes()) {
    FUZZ_CHECK(op.i1 == i && op.j1 == j && op.i1 <= op.i2 && op.j1 <= op.j2);
    i = op.i2, j = op.j2;
  }
  FUZZ_CHECK(i == a.size() && j == b.size());
  double r = m.ratio();
  FUZZ_CHECK(r >= 0.0 && r <= 1.0);
  (void)m.get_grouped_opcodes(3);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto p = swebox::fuzz::parts(swebox::fuzz::as_text(data, size), 2);
  std::u32string a = pystr::decode_utf8(p[0]), b = pystr::decode_utf8(p[1]);
  for (bool autojunk : {false, true}) {
    auto m = difflib::SequenceMatcher::of_text(a, b, autojunk);
    check(m, a, b);
  }
  auto la = pystr::splitlines(p[0]), lb = pystr::splitlines(p[1]);
  auto lines = difflib::SequenceMatcher::of_lines(la, lb, true);
  check(lines, la, lb);
  (void)difflib::unified_diff(la, lb, "a", "b", "", "", 3, "");
  return 0;
}
