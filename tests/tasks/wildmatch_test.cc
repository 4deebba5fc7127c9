#include <doctest/doctest.h>

#include <chrono>
#include <string>
#include <vector>

#include "tasks/wildmatch.h"
#include "tests/tasks/git_fixture.h"

using swebox::tasks::Wildmatch;
using namespace swebox::tasks::testing;

namespace {
bool wm(const std::string& pattern, const std::string& text, bool pathname = true) {
  return Wildmatch(pattern, pathname).matches(text);
}
}  // namespace

TEST_CASE("wildmatch follows git's rules (t3070 cases)") {
  // Literals, '?', '*'.
  CHECK(wm("foo", "foo"));
  CHECK_FALSE(wm("foo", "bar"));
  CHECK(wm("", ""));
  CHECK(wm("???", "foo"));
  CHECK_FALSE(wm("??", "foo"));
  CHECK(wm("*", "foo"));
  CHECK(wm("f*", "foo"));
  CHECK_FALSE(wm("*f", "foo"));
  CHECK(wm("*foo*", "foo"));
  CHECK(wm("*ob*a*r*", "foobar"));
  CHECK(wm("*ab", "aaaaaaabababab"));
  CHECK(wm("foo\\*", "foo*"));
  CHECK_FALSE(wm("foo\\*bar", "foobar"));
  CHECK(wm("f\\\\oo", "f\\oo"));
  CHECK_FALSE(wm("foo\\", "foo\\"));  // a trailing backslash matches nothing
  // Sets.
  CHECK(wm("*[al]?", "ball"));
  CHECK_FALSE(wm("[ten]", "ten"));
  CHECK(wm("**[!te]", "ten"));
  CHECK_FALSE(wm("**[!ten]", "ten"));
  CHECK(wm("t[a-g]n", "ten"));
  CHECK_FALSE(wm("t[!a-g]n", "ten"));
  CHECK(wm("t[!a-g]n", "ton"));
  CHECK(wm("t[^a-g]n", "ton"));
  CHECK(wm("a[]]b", "a]b"));
  CHECK(wm("a[]-]b", "a-b"));
  CHECK(wm("a[]-]b", "a]b"));
  CHECK_FALSE(wm("a[]-]b", "aab"));
  CHECK(wm("a[]a-]b", "aab"));
  CHECK(wm("]", "]"));
  CHECK(wm("[[:alpha:]][[:digit:]][[:upper:]]", "a1B"));
  CHECK_FALSE(wm("[[:digit:][:upper:][:space:]]", "a"));
  CHECK(wm("[[:digit:][:upper:][:space:]]", "A"));
  CHECK(wm("[[:digit:][:upper:][:space:]]", " "));
  CHECK(wm("[[:xdigit:]]", "5"));
  CHECK(wm("[a-c[:digit:]x-z]", "5"));
  CHECK(wm("[\\-_]", "-"));
  CHECK(wm("[\\]]", "]"));
  CHECK_FALSE(wm("[\\\\]", "]"));
  CHECK(wm("[!\\\\]", "]"));
  CHECK(wm("[A-\\\\]", "G"));
  CHECK(wm("[[-]]", "-]"));  // "[[-]" is a set of '[' and '-', then a literal ']'
  CHECK_FALSE(wm("[[:digit:]", "1"));      // unterminated: nothing
  CHECK_FALSE(wm("a[", "a["));             // unterminated: nothing
  CHECK_FALSE(wm("[[:nope:]]", "n"));      // unknown class: nothing
  CHECK(wm("[[:alpha:]-z]", "-"));         // no range after a class
  // Slashes under WM_PATHNAME.
  CHECK_FALSE(wm("foo*bar", "foo/baz/bar"));
  CHECK_FALSE(wm("foo?bar", "foo/bar"));
  CHECK_FALSE(wm("foo[/]bar", "foo/bar"));
  CHECK(wm("foo[/]bar", "foo/bar", false));
  CHECK(wm("foo*bar", "foo/baz/bar", false));
  CHECK_FALSE(wm("foo**bar", "foo/baz/bar"));  // "**" inside a component is "*"
  CHECK(wm("foo/**/bar", "foo/baz/bar"));
  CHECK(wm("foo/**/bar", "foo/bar"));
  CHECK(wm("foo/**/bar", "foo/b/a/z/bar"));
  CHECK(wm("foo/**/**/bar", "foo/b/a/z/bar"));
  CHECK(wm("**/foo", "foo"));
  CHECK(wm("**/foo", "XXX/foo"));
  CHECK(wm("**/foo", "bar/baz/foo"));
  CHECK_FALSE(wm("*/foo", "bar/baz/foo"));
  CHECK_FALSE(wm("**/bar*", "foo/bar/baz"));
  CHECK(wm("**/bar*", "foo/bar/baz", false));
  CHECK(wm("**/bar/*", "deep/foo/bar/baz"));
  CHECK_FALSE(wm("**/bar/*", "deep/foo/bar/baz/"));
  CHECK(wm("**/bar/**", "deep/foo/bar/baz/"));
  CHECK(wm("a/**", "a/b/c"));
  CHECK_FALSE(wm("a/**", "a"));
  CHECK(wm("**", "a/b/c"));
  CHECK(wm("*/*/*", "foo/bba/arr"));
  CHECK_FALSE(wm("*/*/*", "foo/bb/aa/rr"));
  CHECK(wm("**/**/**", "foo/bb/aa/rr"));
  CHECK(wm("*X*i", "abcXdefXghi"));
  CHECK_FALSE(wm("*X*i", "ab/cXd/efXg/hi"));
  CHECK(wm("*/*X*/*/*i", "ab/cXd/efXg/hi"));
  CHECK(wm("**/*X*/**/*i", "ab/cXd/efXg/hi"));
  CHECK(wm("XXX/\\[/**/*.c", "XXX/[/a/b.c"));
  CHECK(wm("-*-*-*-*-*-*-12-*-*-*-m-*-*-*", "-adobe-courier-bold-o-normal--12-120-75-75-m-70-iso8859-1"));
  CHECK_FALSE(wm("-*-*-*-*-*-*-12-*-*-*-m-*-*-*", "-adobe-courier-bold-o-normal--12-120-75-75-X-70-iso8859-1"));
  CHECK(wm("**/*a*b*g*n*t", "abcd/abcdefg/abcdefghijk/abcdefghijklmnop.txt"));
  CHECK_FALSE(wm("**/*a*b*g*n*t", "abcd/abcdefg/abcdefghijk/abcdefghijklmnop.txtz"));
}

TEST_CASE("wildmatch takes linear time on patterns that make a backtracking matcher explode") {
  std::string text(4000, 'a');
  std::string hostile;
  for (int i = 0; i < 200; ++i) hostile += "*a";
  hostile += "b";
  auto t0 = std::chrono::steady_clock::now();
  CHECK_FALSE(wm(hostile, text));
  CHECK_FALSE(wm("**/" + hostile, text + "/" + text));
  CHECK_FALSE(wm(hostile, text, false));
  double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  MESSAGE("three hostile matches: " << s * 1e3 << " ms");
  CHECK(s < 2.0);
  CHECK_FALSE(Wildmatch(std::string(Wildmatch::kMaxPattern + 1, 'a'), true).usable());
}

// The real git as the oracle: for each pattern, `git check-ignore` on a set of paths, against our
// matcher with git's rule that a path whose leading directory is ignored is ignored too.
TEST_CASE("wildmatch agrees with git check-ignore") {
  if (sh("git --version").status != 0) {
    MESSAGE("skipped: no git");
    return;
  }
  const std::vector<std::string> patterns = {
      "*.py",      "a*",         "?b",        "[ab]*",          "[!a]*",        "*[[:digit:]]", "foo/bar",
      "foo/*",     "foo/**",     "**/baz",    "foo/**/baz",     "*/baz",        "f*o/b?r",      "**/b*/**",
      "a/**/b/**", "[a-c]/*.txt", "*.t[x]t",  "foo/[[:alpha:]]*", "**/*.py",     "d[]]e",        "x\\*y",
      "*/*/*",     "foo*bar",    "**foo",     "a[",             "[[:nope:]]x",  "foo/**/",      "**"};
  const std::vector<std::string> paths = {
      "a.py",        "foo/a.py",    "foo/bar",   "foo/bar/baz", "foo/baz",      "foo/x/y/baz", "ab",     "bb",
      "cb",          "abc",         "b1",        "foo/b2",      "a/b",          "a/x/b/c",     "b/c.txt", "d/c.txt",
      "z.txt",       "foo/Q9",      "d]e",       "x*y",         "xzy",          "q/r/s",       "q/r/s/t", "fooxbar",
      "foo/x/bar",   "barfoo",      "a[",        "Nx",          "fbo/bar",      "foo/bar/qux/baz"};
  TempDir tmp;
  REQUIRE(sh("git init -q .", tmp.path).status == 0);
  std::string input;
  for (const auto& p : paths) input += p + "\n";
  write_file(tmp.path + "/paths", input);
  for (const auto& pattern : patterns) {
    CAPTURE(pattern);
    write_file(tmp.path + "/.git/info/exclude", pattern + "\n");
    auto r = sh("git check-ignore --no-index --stdin < paths", tmp.path);
    REQUIRE((r.status == 0 || r.status == 1));
    std::string glob = pattern;
    bool dir_only = !glob.empty() && glob.back() == '/';
    if (dir_only) glob.pop_back();
    bool basename = glob.find('/') == std::string::npos;
    if (!glob.empty() && glob[0] == '/') glob.erase(0, 1);
    Wildmatch m(glob, !basename);
    for (const auto& path : paths) {
      CAPTURE(path);
      bool ours = false;
      // The path and each leading directory of it (a directory only where dir_only).
      for (size_t end = 0; end != std::string::npos && !ours;) {
        end = path.find('/', end + 1);
        std::string prefix = path.substr(0, end);
        bool is_dir = end != std::string::npos;
        if (dir_only && !is_dir) continue;
        std::string_view subject = prefix;
        if (basename && prefix.rfind('/') != std::string::npos) subject = subject.substr(prefix.rfind('/') + 1);
        ours = m.matches(subject);
      }
      bool gits = ("\n" + r.out).find("\n" + path + "\n") != std::string::npos;
      CHECK(ours == gits);
    }
  }
}
