#include "tasks/wildmatch.h"

namespace swebox::tasks {
namespace {

// git's sane_ctype classes: ASCII only, whatever the locale.
bool in_class(std::string_view name, unsigned char c, bool* known) {
  *known = true;
  bool upper = c >= 'A' && c <= 'Z', lower = c >= 'a' && c <= 'z', digit = c >= '0' && c <= '9';
  bool alpha = upper || lower, space = c == ' ' || (c >= '\t' && c <= '\r');
  bool print = c >= 0x20 && c < 0x7f;
  if (name == "alnum") return alpha || digit;
  if (name == "alpha") return alpha;
  if (name == "blank") return c == ' ' || c == '\t';
  if (name == "cntrl") return c < 0x20 || c == 0x7f;
  if (name == "digit") return digit;
  if (name == "graph") return print && c != ' ';
  if (name == "lower") return lower;
  if (name == "print") return print;
  if (name == "punct") return print && c != ' ' && !alpha && !digit;
  if (name == "space") return space;
  if (name == "upper") return upper;
  if (name == "xdigit") return digit || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
  *known = false;
  return false;
}

enum class Bracket { match, nomatch, malformed };

// git's bracket loop (wildmatch.c, case '['), for one text character: p is just after the '['.
// Sets *end to the closing ']'.
Bracket bracket(std::string_view pat, size_t p, unsigned char t, size_t* end) {
  auto at = [&](size_t i) -> unsigned char { return i < pat.size() ? static_cast<unsigned char>(pat[i]) : 0; };
  unsigned char pc = at(p);
  if (pc == '^') pc = '!';
  bool negated = pc == '!';
  if (negated) pc = at(++p);
  unsigned char prev = 0;
  bool matched = false;
  do {
    if (!pc) return Bracket::malformed;
    if (pc == '\\') {
      pc = at(++p);
      if (!pc) return Bracket::malformed;
      if (t == pc) matched = true;
    } else if (pc == '-' && prev && at(p + 1) && at(p + 1) != ']') {
      pc = at(++p);
      if (pc == '\\') {
        pc = at(++p);
        if (!pc) return Bracket::malformed;
      }
      if (t <= pc && t >= prev) matched = true;
      pc = 0;  // so that prev becomes 0
    } else if (pc == '[' && at(p + 1) == ':') {
      size_t s = p += 2;
      while ((pc = at(p)) && pc != ']') ++p;
      if (!pc) return Bracket::malformed;
      if (p - s < 1 || at(p - 1) != ':') {
        // No ":]": the '[' is an ordinary member.
        p = s - 2;
        pc = '[';
        if (t == pc) matched = true;
        continue;
      }
      bool known;
      if (in_class(pat.substr(s, p - s - 1), t, &known)) matched = true;
      if (!known) return Bracket::malformed;
      pc = 0;
    } else if (t == pc) {
      matched = true;
    }
  } while (prev = pc, (pc = at(++p)) != ']');
  *end = p;
  return matched == negated ? Bracket::nomatch : Bracket::match;
}

}  // namespace

int Wildmatch::add_set(const CharSet& s) {
  sets_.push_back(s);
  return static_cast<int>(sets_.size()) - 1;
}

int Wildmatch::add_state(State s) {
  states_.push_back(s);
  return static_cast<int>(states_.size()) - 1;
}

Wildmatch::Wildmatch(std::string_view pat, bool pathname) {
  if (pat.size() > kMaxPattern) return;
  CharSet any, not_slash, slash;
  for (int c = 1; c < 256; ++c) {
    any.add(static_cast<unsigned char>(c));
    if (c != '/') not_slash.add(static_cast<unsigned char>(c));
  }
  slash.add('/');
  const int any_set = add_set(any), step_set = add_set(pathname ? not_slash : any), slash_set = add_set(slash);
  auto here = [&] { return static_cast<int>(states_.size()); };
  auto consume = [&](int set) { add_state({false, set, here() + 1, -1}); };
  // A loop over `set`: split(body, exit); body consumes and goes back.
  auto star = [&](int set) {
    int split = here();
    add_state({true, -1, split + 1, split + 2});
    add_state({false, set, split, -1});
  };
  for (size_t p = 0; p < pat.size(); ++p) {
    unsigned char c = static_cast<unsigned char>(pat[p]);
    if (c == '*') {
      size_t first = p;
      while (p + 1 < pat.size() && pat[p + 1] == '*') ++p;
      bool dbl = p > first;
      size_t after = p + 1;
      bool at_start = first == 0 || pat[first - 1] == '/';
      bool before_slash = after == pat.size() || pat[after] == '/' ||
                          (pat[after] == '\\' && after + 1 < pat.size() && pat[after + 1] == '/');
      if (pathname && dbl && at_start && before_slash) {
        if (after < pat.size() && pat[after] == '/') {
          // "**/": nothing, or anything that ends with a slash.
          int s = here();
          add_state({true, -1, s + 4, s + 1});  // skip all of it | enter
          add_state({true, -1, s + 2, s + 3});  // loop: one more char | the slash
          add_state({false, any_set, s + 1, -1});
          add_state({false, slash_set, s + 4, -1});
          p = after;  // the slash is consumed
        } else {
          star(any_set);
        }
      } else {
        star(step_set);
      }
    } else if (c == '?') {
      consume(step_set);
    } else if (c == '[') {
      CharSet set;
      size_t end = 0;
      for (int t = 1; t < 256; ++t) {
        Bracket b = bracket(pat, p + 1, static_cast<unsigned char>(t), &end);
        if (b == Bracket::malformed) return;  // matches nothing
        if (b == Bracket::match && !(pathname && t == '/')) set.add(static_cast<unsigned char>(t));
      }
      consume(add_set(set));
      p = end;
    } else {
      if (c == '\\') {
        if (++p == pat.size()) return;  // a trailing backslash matches nothing
        c = static_cast<unsigned char>(pat[p]);
      }
      CharSet one;
      one.add(c);
      consume(add_set(one));
    }
  }
  accept_ = add_state({false, -1, -1, -1});
  start_ = 0;
  usable_ = true;
}

void Wildmatch::close_over(std::vector<uint32_t>& on, uint32_t gen, std::vector<int>& list, std::vector<int>& stack,
                           int s) const {
  // Iterative: a long run of "*" must not recurse deeply.
  stack.assign(1, s);
  while (!stack.empty()) {
    int x = stack.back();
    stack.pop_back();
    if (on[x] == gen) continue;
    on[x] = gen;
    list.push_back(x);
    if (states_[x].split) {
      stack.push_back(states_[x].alt);
      stack.push_back(states_[x].next);
    }
  }
}

bool Wildmatch::matches(std::string_view text) const {
  if (!usable_) return false;
  // on[s] == gen: s is in the set being built (a generation per text position, no clearing).
  std::vector<uint32_t> on(states_.size(), 0);
  uint32_t gen = 1;
  std::vector<int> cur, next, stack;
  close_over(on, gen, cur, stack, start_);
  for (unsigned char c : text) {
    ++gen;
    next.clear();
    for (int s : cur) {
      const State& st = states_[s];
      if (!st.split && st.set >= 0 && sets_[st.set].has(c)) close_over(on, gen, next, stack, st.next);
    }
    cur.swap(next);
    if (cur.empty()) return false;
  }
  for (int s : cur)
    if (s == accept_) return true;
  return false;
}

}  // namespace swebox::tasks
