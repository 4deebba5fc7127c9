// A port of CPython's difflib.SequenceMatcher and unified_diff, giving the same blocks, opcodes,
// ratios (bit for bit) and diff text. SWE-RL's reward (docs/formats.md §5.1) is defined by these exact
// numbers, so an approximation would change rewards; tests/scoring compares against /usr/bin/python3.
//
// Python semantics kept: isjunk=None; autojunk drops every element of b that occurs more than
// ⌊|b|/100⌋+1 times when |b| >= 200 from the match index (not from extension, as in CPython);
// longest-match ties go to the earliest match in a, then in b.
// Sequences are code points (decode UTF-8 first, see python_str.h) or lines.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace swebox::tasks::difflib {

struct Match {
  size_t a = 0, b = 0, size = 0;  // a[a:a+size] == b[b:b+size]
  bool operator==(const Match&) const = default;
};

enum class OpTag { replace, del, insert, equal };
const char* to_string(OpTag tag);  // "replace", "delete", "insert", "equal"

struct Opcode {
  OpTag tag;
  size_t i1, i2, j1, j2;  // a[i1:i2] becomes b[j1:j2]
  bool operator==(const Opcode&) const = default;
};

class SequenceMatcher {
 public:
  // Sequences of element ids: equal elements must have equal ids. Ids of a that never occur in b
  // may be any negative value. Use the factories below for text and lines.
  SequenceMatcher(std::vector<int32_t> a, std::vector<int32_t> b, bool autojunk = true);

  // Over code points (Python str).
  static SequenceMatcher of_text(std::u32string_view a, std::u32string_view b, bool autojunk = true);
  // Over lines (Python list of str): lines are compared as whole strings.
  static SequenceMatcher of_lines(const std::vector<std::string>& a, const std::vector<std::string>& b,
                                  bool autojunk = true);

  Match find_longest_match(size_t alo, size_t ahi, size_t blo, size_t bhi);
  // Non-adjacent blocks in increasing order, ending with the sentinel {|a|, |b|, 0}.
  const std::vector<Match>& get_matching_blocks();
  std::vector<Opcode> get_opcodes();
  std::vector<std::vector<Opcode>> get_grouped_opcodes(size_t n = 3);
  // 2.0*M/(|a|+|b|), 1.0 when both are empty.
  double ratio();

  size_t size_a() const { return a_.size(); }
  size_t size_b() const { return b_.size(); }

 private:
  void index_b(bool autojunk);

  std::vector<int32_t> a_, b_;
  // b2j as CSR: positions of id x in b are positions_[offsets_[x] .. offsets_[x+1]), ascending;
  // popular ids have an empty range.
  std::vector<uint32_t> offsets_;
  std::vector<uint32_t> positions_;
  // j2len of CPython, double-buffered by row parity; a cell is valid only if its stamp is the
  // row it was written in, so nothing is cleared between rows or calls.
  struct Cell {
    uint64_t stamp;
    uint32_t len;
  };
  std::vector<Cell> j2len_[2];
  uint64_t row_ = 0;
  bool have_blocks_ = false;
  std::vector<Match> blocks_;
};

// SequenceMatcher(None, a, b, autojunk).ratio() over code points / UTF-8 text.
double ratio(std::u32string_view a, std::u32string_view b, bool autojunk = true);
double ratio_utf8(std::string_view a, std::string_view b, bool autojunk = true);

// difflib.unified_diff(a, b, fromfile, tofile, fromfiledate, tofiledate, n, lineterm): the header
// lines "--- ..." and "+++ ..." (only when something differs), then per hunk "@@ -s,l +s,l @@" and
// the ' '/'-'/'+' lines. Each yielded line is one element; `lineterm` ends header lines only
// (content lines are yielded as given, as CPython does).
std::vector<std::string> unified_diff(const std::vector<std::string>& a, const std::vector<std::string>& b,
                                      std::string_view fromfile = "", std::string_view tofile = "",
                                      std::string_view fromfiledate = "", std::string_view tofiledate = "",
                                      size_t n = 3, std::string_view lineterm = "\n");

}  // namespace swebox::tasks::difflib
