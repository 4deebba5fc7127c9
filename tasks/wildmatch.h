// git's wildmatch (the glob of .gitignore, pathspecs and attributes), in time linear in the text:
// the pattern is compiled once into a small automaton and the text is run through it with a set
// of states (no backtracking), so a hostile pattern such as "*a*a*a*a*a*b" costs at most
// pattern length × text length steps, not exponential time.
//
// Semantics are git's (wildmatch.c, t3070): '?' one character, '*' any run, "[...]" a set with
// ranges, '!' or '^' negation and [:class:] names, '\' escapes the next character. With
// `pathname` (WM_PATHNAME, how .gitignore matches a pattern holding a '/'), '?', '*' and sets never
// match '/', and "**" between slashes (or at either end) matches across them: "a/**/b" matches a/b
// and a/x/y/b, "**/b" any b, "a/**" everything under a. A malformed set ("[a", "[[:nope:]]") makes
// the pattern match nothing, as in git.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace swebox::tasks {

class Wildmatch {
 public:
  // Longest pattern compiled; a longer one matches nothing (callers drop it, as an unusable rule).
  static constexpr size_t kMaxPattern = 4096;

  Wildmatch() = default;
  Wildmatch(std::string_view pattern, bool pathname);

  // False for a pattern that can match nothing (malformed set, too long).
  bool usable() const { return usable_; }
  bool matches(std::string_view text) const;

 private:
  struct CharSet {
    uint64_t bits[4] = {0, 0, 0, 0};
    void add(unsigned char c) { bits[c >> 6] |= uint64_t(1) << (c & 63); }
    bool has(unsigned char c) const { return bits[c >> 6] >> (c & 63) & 1; }
  };
  // A state either consumes one character in `set` and moves to `next`, or (split) moves to
  // `next` and `alt` without consuming; the last state accepts.
  struct State {
    bool split = false;
    int set = -1;
    int next = -1, alt = -1;
  };
  int add_set(const CharSet& s);
  int add_state(State s);
  void close_over(std::vector<uint32_t>& on, uint32_t gen, std::vector<int>& list, std::vector<int>& stack, int s) const;

  std::vector<State> states_;
  std::vector<CharSet> sets_;
  int start_ = -1, accept_ = -1;
  bool usable_ = false;
};

}  // namespace swebox::tasks
