#include "tasks/test_infrastructure.h"

#include <fnmatch.h>

#include <algorithm>
#include <cctype>
#include <regex>
#include <sstream>

namespace swebox::tasks {

namespace {

std::vector<std::string> components(const std::string& path) {
  std::vector<std::string> out;
  std::string part;
  std::istringstream in(path);
  while (std::getline(in, part, '/'))
    if (!part.empty() && part != ".") out.push_back(part);
  return out;
}

std::string basename_of(const std::string& path) {
  auto c = components(path);
  return c.empty() ? "" : c.back();
}

std::string dirname_of(const std::string& path) {
  size_t slash = path.rfind('/');
  return slash == std::string::npos ? "" : path.substr(0, slash);
}

bool starts_with(const std::string& s, const std::string& p) { return s.rfind(p, 0) == 0; }
bool ends_with(const std::string& s, const std::string& p) {
  return s.size() >= p.size() && s.compare(s.size() - p.size(), p.size(), p) == 0;
}

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// True when `path` is `dir` or lies under it.
bool under(const std::string& path, const std::string& dir) {
  return !dir.empty() && (path == dir || starts_with(path, dir + "/"));
}

// Shell words of a command line, quotes removed (enough to find the program a test command runs).
std::vector<std::string> shell_words(const std::string& line) {
  std::vector<std::string> words;
  std::string w;
  bool have = false;
  char quote = 0;
  for (char c : line) {
    if (quote) {
      if (c == quote) quote = 0;
      else w += c;
    } else if (c == '\'' || c == '"') {
      quote = c, have = true;
    } else if (c == ' ' || c == '\t') {
      if (have) words.push_back(w), w.clear(), have = false;
    } else {
      w += c, have = true;
    }
  }
  if (have) words.push_back(w);
  return words;
}

std::string normalize(std::string p) {
  while (starts_with(p, "./")) p = p.substr(2);
  if (starts_with(p, "/testbed/")) p = p.substr(9);
  return p;
}

// The repository files a test command runs as programs: `bin/test ...`, `./tests/runtests.py ...`,
// `python path/x.py ...`.
std::vector<std::string> command_programs(const std::string& line) {
  std::vector<std::string> out;
  auto words = shell_words(line);
  size_t i = 0;
  static const std::regex assignment(R"([A-Za-z_][A-Za-z0-9_]*=.*)");
  while (i < words.size() && std::regex_match(words[i], assignment)) ++i;
  if (i >= words.size()) return out;
  std::string prog = words[i];
  if (prog.find('/') != std::string::npos && !starts_with(prog, "/")) out.push_back(normalize(prog));
  if (starts_with(prog, "/testbed/")) out.push_back(normalize(prog));
  static const std::regex python(R"((.*/)?python[0-9.]*)");
  if (std::regex_match(prog, python)) {
    for (size_t j = i + 1; j < words.size(); ++j) {
      if (words[j] == "-m" || words[j] == "-c") break;
      if (starts_with(words[j], "-")) continue;
      if (!starts_with(words[j], "/") || starts_with(words[j], "/testbed/")) out.push_back(normalize(words[j]));
      break;
    }
  }
  return out;
}

// A name that, as the first word of a command, the eval script or the tests might run.
bool named_like_a_test_program(const std::string& name) {
  static const std::regex re(R"((python[0-9.]*(-config)?|pytest|py\.test|pip[0-9.]*|tox|nosetests|nose2|bash|sh|env|git|patch|coverage))");
  return std::regex_match(name, re);
}

// The module name a new file defines at its directory: "x" for x.py, x.cpython-311-x86_64-linux-gnu.so,
// x.pth...; the package name for x/__init__.py. Empty when it is not an importable file.
struct ModuleFile {
  std::string name, container;
};
std::optional<ModuleFile> module_file(const std::string& path) {
  std::string base = basename_of(path), dir = dirname_of(path);
  if (base == "__init__.py" || base == "__init__.pyc") {
    if (dir.empty()) return std::nullopt;
    return ModuleFile{basename_of(dir), dirname_of(dir)};
  }
  for (const char* ext : {".py", ".pyc", ".so", ".pyd", ".pyw"}) {
    if (ends_with(base, ext)) {
      std::string stem = base.substr(0, base.find('.'));
      if (stem.empty()) return std::nullopt;
      return ModuleFile{stem, dir};
    }
  }
  return std::nullopt;
}

const char* kTestFileWhy = "a test file: reset to base, then the test patch applies to it";

}  // namespace

const char* to_string(TreeChange::Kind kind) {
  switch (kind) {
    case TreeChange::Kind::added: return "added";
    case TreeChange::Kind::modified: return "modified";
    case TreeChange::Kind::deleted: return "deleted";
    case TreeChange::Kind::type_changed: return "type changed";
  }
  return "modified";
}

bool glob_match(const std::string& glob, const std::string& path) {
  return fnmatch(glob.c_str(), path.c_str(), 0) == 0;
}

bool is_sectioned_config(const std::string& path) {
  std::string b = basename_of(path);
  return b == "setup.cfg" || b == "pyproject.toml";
}

std::optional<InfrastructureReason> infrastructure_reason(const TreeChange& c, const InfrastructureContext& ctx) {
  const std::string& path = c.path;
  auto parts = components(path);
  std::string base = parts.empty() ? "" : parts.back();
  std::string base_l = lower(base);
  auto reason = [](std::string why, bool test_file = false) {
    return std::optional<InfrastructureReason>(InfrastructureReason{std::move(why), test_file});
  };

  for (const auto& p : parts)
    if (lower(p) == ".git") return reason("git metadata: the judge uses the base commit's own");
  if (c.directory) return reason("a nested git repository (its files are not judged one by one)");
  for (const auto& p : parts)
    if (p == "__pycache__") return reason("bytecode: Python would run it instead of the source");
  if (ends_with(base_l, ".pyc") || ends_with(base_l, ".pyo"))
    return reason("bytecode: Python would run it instead of the source");
  if (base == "conftest.py") return reason("conftest.py: pytest imports it before any test and its hooks decide outcomes");
  if (auto m = module_file(path); m && (m->name == "sitecustomize" || m->name == "usercustomize"))
    return reason(m->name + ": Python imports it at start-up");
  if (ends_with(base_l, ".pth")) return reason("a .pth file: Python's site module runs its import lines at start-up");
  for (const auto& p : parts)
    if (ends_with(lower(p), ".egg-info") || ends_with(lower(p), ".dist-info") || ends_with(lower(p), ".egg-link"))
      return reason("package metadata: its entry points can load pytest plugins");
  static const std::set<std::string> configs = {"pytest.ini", ".pytest.ini", "pytest.toml", ".pytest.toml", "tox.ini",
                                                ".noserc", "nose.cfg", "nose2.cfg", "unittest.cfg"};
  if (configs.count(base)) return reason("test runner configuration (" + base + ")");
  if (c.symlink) return reason("a symbolic link: what it points to is not judged code");

  // Test files.
  for (const auto& f : ctx.test_patch_files)
    if (path == f) return reason(kTestFileWhy, true);
  for (const auto& f : ctx.test_patch_files) {
    std::string dir = dirname_of(f);
    if (dir.empty()) continue;  // the repository root is not a test directory
    bool testish = false;
    for (const auto& p : components(dir)) testish = testish || lower(p).find("test") != std::string::npos;
    if (testish && under(path, dir)) return reason(kTestFileWhy, true);
  }
  for (size_t i = 0; i + 1 < parts.size(); ++i)
    if (parts[i] == "tests" || parts[i] == "testing") return reason(kTestFileWhy, true);
  if ((starts_with(base, "test_") && ends_with(base, ".py")) || ends_with(base, "_test.py") || base == "tests.py")
    return reason(kTestFileWhy, true);

  // What runs the tests.
  for (const auto& line : ctx.test_commands)
    for (const auto& prog : command_programs(line))
      if (path == prog) return reason("the program the test command runs (" + prog + ")");
  for (const auto& g : ctx.test_infra_globs)
    if (glob_match(g, path)) return reason("test infrastructure of this repository (environment table: " + g + ")");

  // New files that shadow what Python, pytest or the tests import from outside the repository:
  // at a directory that is not a package, a module is top-level (the work tree, PYTHONPATH entries
  // and the test directories pytest inserts are all such directories).
  if (c.kind == TreeChange::Kind::added || c.kind == TreeChange::Kind::type_changed) {
    if (auto m = module_file(path)) {
      bool in_package = !m->container.empty() && ctx.base_has_file && ctx.base_has_file(m->container + "/__init__.py");
      static const std::set<std::string> always = {"site", "pytest", "_pytest", "py", "pluggy", "unittest", "nose"};
      if (!in_package && (ctx.outside_modules.count(m->name) || always.count(m->name)))
        return reason("a new top-level module '" + m->name + "' that shadows the one installed outside the repository");
    }
    if (named_like_a_test_program(base)) return reason("a new program named like one the tests run (" + base + ")");
  }
  return std::nullopt;
}

// ---------------------------------------------------------------------------- setup.cfg, pyproject.toml

namespace {

struct Section {
  std::string header;  // the header line as written ("" for the lines before the first header)
  std::string name;    // what is inside the brackets, trimmed
  std::vector<std::string> lines;  // the body
};

std::string trim(const std::string& s) {
  size_t a = s.find_first_not_of(" \t\r");
  if (a == std::string::npos) return "";
  size_t b = s.find_last_not_of(" \t\r");
  return s.substr(a, b - a + 1);
}

std::vector<std::string> split_lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string l; std::getline(in, l);) out.push_back(l);
  return out;
}

// A line-based reading of INI and TOML: a line whose first non-blank character is '[' is a header.
std::vector<Section> sections(const std::string& text) {
  std::vector<Section> out(1);
  for (const auto& l : split_lines(text)) {
    std::string t = trim(l);
    if (!t.empty() && t[0] == '[') {
      Section s;
      s.header = l;
      std::string inner = t;
      while (!inner.empty() && inner[0] == '[') inner.erase(0, 1);
      inner = inner.substr(0, inner.find(']'));
      s.name = trim(inner);
      out.push_back(std::move(s));
    } else {
      out.back().lines.push_back(l);
    }
  }
  return out;
}

bool is_test_section(bool toml, const std::string& name) {
  std::string n = lower(name);
  for (char& c : n)
    if (c == '"' || c == '\'' || c == ' ') c = 0;
  n.erase(std::remove(n.begin(), n.end(), '\0'), n.end());
  if (toml) return starts_with(n, "tool.pytest") || starts_with(n, "tool.tox") || starts_with(n, "tool.nose");
  return n == "tool:pytest" || n == "pytest" || starts_with(n, "nosetests") || n == "nose" || starts_with(n, "tox") ||
         starts_with(n, "testenv");
}

// A changed line outside the test sections that could change what belongs to them, or names them.
std::string unsafe_line(bool toml, const std::string& line) {
  std::string l = lower(line);
  if (l.find("\"\"\"") != std::string::npos || l.find("'''") != std::string::npos) return "a triple quote";
  for (const char* word : {"pytest", "tox", "nose", "conftest"})
    if (l.find(word) != std::string::npos) return std::string("a line naming ") + word;
  if (toml) {
    long square = 0, curly = 0;
    for (char c : l) square += c == '[' ? 1 : c == ']' ? -1 : 0, curly += c == '{' ? 1 : c == '}' ? -1 : 0;
    if (square || curly) return "an unbalanced bracket";
  }
  return "";
}

std::string join_lines(const std::vector<Section>& secs, bool trailing_newline) {
  std::string out;
  bool first = true;
  auto put = [&](const std::string& l) {
    if (!first) out += '\n';
    out += l;
    first = false;
  };
  for (size_t i = 0; i < secs.size(); ++i) {
    if (i > 0) put(secs[i].header);
    for (const auto& l : secs[i].lines) put(l);
  }
  if (trailing_newline && !out.empty()) out += '\n';
  return out;
}

}  // namespace

ConfigSplit split_config_change(const std::string& path, const std::string& base, const std::string& changed) {
  bool toml = ends_with(basename_of(path), ".toml");
  ConfigSplit r;
  auto b = sections(base), c = sections(changed);
  auto test_text = [&](const std::vector<Section>& secs) {
    std::string t;
    for (size_t i = 1; i < secs.size(); ++i)
      if (is_test_section(toml, secs[i].name)) {
        t += secs[i].header + "\n";
        for (const auto& l : secs[i].lines) t += l + "\n";
      }
    return t;
  };
  bool test_changed = test_text(b) != test_text(c);

  // The merged file: the changed one with each test section's body as at base, possible only when
  // both have the same headers in the same order.
  bool same_headers = b.size() == c.size();
  for (size_t i = 1; same_headers && i < b.size(); ++i) same_headers = trim(b[i].header) == trim(c[i].header);
  std::vector<Section> merged = c;
  if (same_headers)
    for (size_t i = 1; i < merged.size(); ++i)
      if (is_test_section(toml, merged[i].name)) merged[i].lines = b[i].lines;

  // Every line outside the test sections that is new or gone must be harmless.
  std::string unsafe;
  if (same_headers) {
    for (size_t i = 0; i < merged.size() && unsafe.empty(); ++i) {
      if (i > 0 && is_test_section(toml, merged[i].name)) continue;
      std::multiset<std::string> old_lines(b[i].lines.begin(), b[i].lines.end());
      std::multiset<std::string> new_lines(merged[i].lines.begin(), merged[i].lines.end());
      for (const auto& l : merged[i].lines)
        if (!old_lines.count(l) && !(unsafe = unsafe_line(toml, l)).empty()) break;
      if (!unsafe.empty()) break;
      for (const auto& l : b[i].lines)
        if (!new_lines.count(l) && !(unsafe = unsafe_line(toml, l)).empty()) break;
    }
  }

  if (!same_headers) {
    if (!test_changed && test_text(b).empty() && test_text(c).empty()) {
      // No test section on either side; still, a header added or removed could create one under
      // another spelling: only a change whose every new or gone line is harmless is kept.
      std::multiset<std::string> old_lines, new_lines;
      for (const auto& l : split_lines(base)) old_lines.insert(l);
      for (const auto& l : split_lines(changed)) new_lines.insert(l);
      for (const auto& l : split_lines(changed))
        if (!old_lines.count(l) && unsafe.empty()) unsafe = unsafe_line(toml, l);
      for (const auto& l : split_lines(base))
        if (!new_lines.count(l) && unsafe.empty()) unsafe = unsafe_line(toml, l);
      if (unsafe.empty()) {
        r.outcome = ConfigSplit::Outcome::no_test_change;
        r.why = "no test section on either side";
        return r;
      }
    }
    r.outcome = ConfigSplit::Outcome::whole_file;
    r.why = "test runner configuration: the section headers changed, so the test sections cannot be separated; the whole file's change was reset";
    return r;
  }
  if (!unsafe.empty()) {
    r.outcome = ConfigSplit::Outcome::whole_file;
    r.why = "test runner configuration: a change outside its test sections has " + unsafe +
            ", so the whole file's change was reset";
    return r;
  }
  if (!test_changed) {
    r.outcome = ConfigSplit::Outcome::no_test_change;
    r.why = "only sections other than the test sections changed";
    return r;
  }
  r.outcome = ConfigSplit::Outcome::test_sections;
  r.merged = join_lines(merged, !changed.empty() && changed.back() == '\n');
  r.why = "test runner configuration: its test sections were reset to base, its other changes kept";
  return r;
}

}  // namespace swebox::tasks
