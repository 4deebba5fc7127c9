#include "tasks/log_parsers.h"

#include <stdexcept>

#include "tasks/python_str.h"

namespace swebox::tasks {
namespace {

using pystr::ends_with;
using pystr::starts_with;

constexpr std::string_view kStatusWords[] = {"FAILED", "PASSED", "SKIPPED", "ERROR", "XFAIL"};

TestStatus status_of(std::string_view word) {
  if (word == "PASSED") return TestStatus::passed;
  if (word == "FAILED") return TestStatus::failed;
  if (word == "SKIPPED") return TestStatus::skipped;
  if (word == "ERROR") return TestStatus::error;
  if (word == "XFAIL") return TestStatus::xfail;
  return TestStatus::other;
}

bool starts_with_status(std::string_view line) {
  for (std::string_view w : kStatusWords)
    if (starts_with(line, w)) return true;
  return false;
}

bool ends_with_status(std::string_view line) {
  for (std::string_view w : kStatusWords)
    if (ends_with(line, w)) return true;
  return false;
}

// pytest's "SKIPPED [N] path:line: reason" summary, where [N] is a count, not a test.
bool is_skip_summary(std::string_view status, std::string_view name) {
  if (status != "SKIPPED" || name.size() < 3 || name.front() != '[' || name.back() != ']') return false;
  for (char c : name.substr(1, name.size() - 2))
    if (c < '0' || c > '9') return false;
  return true;
}

std::string join(const std::vector<std::string_view>& parts, size_t from, size_t to) {
  std::string out;
  for (size_t i = from; i < to; ++i) {
    if (i > from) out += ' ';
    out += parts[i];
  }
  return out;
}

// The shared body of parse_log_pytest / _options / matplotlib: `rename` maps the id.
template <typename Rename>
StatusMap parse_pytest_like(std::string_view log, bool mouse_buttons, Rename rename) {
  StatusMap map;
  for (std::string_view raw : pystr::split(log, "\n")) {
    std::string line(raw);
    if (mouse_buttons) {
      line = pystr::replace_all(line, "MouseButton.LEFT", "1");
      line = pystr::replace_all(line, "MouseButton.RIGHT", "3");
    }
    if (!starts_with_status(line)) continue;
    if (starts_with(line, "FAILED")) line = pystr::replace_all(line, " - ", " ");
    auto tokens = pystr::split_whitespace(line);
    if (tokens.size() <= 1) continue;
    if (is_skip_summary(tokens[0], tokens[1])) continue;
    map[rename(tokens[1])] = status_of(tokens[0]);
  }
  return map;
}

std::string keep_id(std::string_view id) { return std::string(id); }

// parse_log_pytest_options: "(.*?)\[(.*)\]" on the id; a parameter that is an absolute path
// (one leading '/', no '*') is cut to its last component. Text after the last ']' is dropped.
std::string shorten_path_option(std::string_view id) {
  size_t open = id.find('[');
  size_t close = id.rfind(']');
  if (open == std::string_view::npos || close == std::string_view::npos || close < open) return std::string(id);
  std::string main(id.substr(0, open));
  std::string option(id.substr(open + 1, close - open - 1));
  if (starts_with(option, "/") && !starts_with(option, "//") && option.find('*') == std::string::npos)
    option = "/" + option.substr(option.rfind('/') + 1);
  return main + "[" + option + "]";
}

// Python's re "\s" on one ASCII byte (the Django patterns only ever see ASCII there).
bool is_regex_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

// "\s\.\.\.\s" at `pos`.
bool is_dots(std::string_view s, size_t pos) {
  return pos + 5 <= s.size() && is_regex_space(s[pos]) && s.compare(pos + 1, 3, "...") == 0 && is_regex_space(s[pos + 4]);
}

// First "\s...\s<text>" in `line` at or after `from`; returns the position of the leading space.
size_t find_dots_then(std::string_view line, std::string_view text, size_t from = 0) {
  for (size_t p = line.find("...", from ? from + 1 : 0); p != std::string_view::npos; p = line.find("...", p + 1)) {
    if (p == 0 || p - 1 < from) continue;
    if (is_dots(line, p - 1) && line.compare(p + 4, text.size(), text) == 0) return p - 1;
  }
  return std::string_view::npos;
}

// Django's three multi-line patterns (finditer with re.MULTILINE over the whole log): a test whose
// "ok" landed on the next line after a long message.
void django_multiline_passes(std::string_view log, StatusMap& map) {
  std::vector<std::string_view> lines = pystr::split(log, "\n");
  auto ok_line = [&](size_t i) { return i < lines.size() && lines[i] == "ok"; };
  // 1. "^(.*?)\s\.\.\.\sTesting against Django installed in (?s:.*?) silenced\)\.\nok$"
  static constexpr std::string_view kTesting = "Testing against Django installed in ";
  for (size_t i = 0; i < lines.size(); ++i) {
    size_t at = find_dots_then(lines[i], kTesting);
    if (at == std::string_view::npos) continue;
    // The lazy (?s:.*?) runs to the first " silenced)." that ends a line followed by a line "ok".
    size_t from = at + 5 + kTesting.size();
    for (size_t k = i; k < lines.size(); ++k) {
      std::string_view l = lines[k];
      size_t start = k == i ? from : 0;
      if (l.size() >= start + 11 && ends_with(l, " silenced).") && ok_line(k + 1) &&
          (k > i || l.size() - 11 >= start)) {
        map[std::string(lines[i].substr(0, at))] = TestStatus::passed;
        i = k + 1;
        break;
      }
    }
  }
  // 2. "^(.*?)\s\.\.\.\sInternal Server Error: \/(.*)\/\nok$"
  static constexpr std::string_view kInternal = "Internal Server Error: /";
  for (size_t i = 0; i + 1 < lines.size(); ++i) {
    if (!ok_line(i + 1)) continue;
    std::string_view l = lines[i];
    for (size_t at = find_dots_then(l, kInternal); at != std::string_view::npos; at = find_dots_then(l, kInternal, at + 1)) {
      size_t rest = at + 5 + kInternal.size();
      if (l.size() > rest && l.back() == '/') {
        map[std::string(l.substr(0, at))] = TestStatus::passed;
        ++i;
        break;
      }
    }
  }
  // 3. "^(.*?)\s\.\.\.\sSystem check identified no issues \(0 silenced\)\nok$"
  static constexpr std::string_view kCheck = "System check identified no issues (0 silenced)";
  for (size_t i = 0; i + 1 < lines.size(); ++i) {
    std::string_view l = lines[i];
    if (!ok_line(i + 1) || l.size() < kCheck.size() + 5 || !ends_with(l, kCheck)) continue;
    size_t at = l.size() - kCheck.size() - 5;
    if (!is_dots(l, at)) continue;
    map[std::string(l.substr(0, at))] = TestStatus::passed;
    ++i;
  }
}

}  // namespace

const char* to_string(TestStatus status) {
  switch (status) {
    case TestStatus::passed: return "PASSED";
    case TestStatus::failed: return "FAILED";
    case TestStatus::skipped: return "SKIPPED";
    case TestStatus::error: return "ERROR";
    case TestStatus::xfail: return "XFAIL";
    case TestStatus::other: return "OTHER";
  }
  return "OTHER";
}

StatusMap parse_log_pytest(std::string_view log) { return parse_pytest_like(log, false, keep_id); }

StatusMap parse_log_pytest_options(std::string_view log) { return parse_pytest_like(log, false, shorten_path_option); }

StatusMap parse_log_matplotlib(std::string_view log) { return parse_pytest_like(log, true, keep_id); }

StatusMap parse_log_pytest_v2(std::string_view log) {
  StatusMap map;
  for (std::string_view raw : pystr::split(log, "\n")) {
    // Drop colour codes "[<digits>m", then every control character 1..31.
    std::string line;
    line.reserve(raw.size());
    for (size_t i = 0; i < raw.size(); ++i) {
      if (raw[i] == '[') {
        size_t j = i + 1;
        while (j < raw.size() && raw[j] >= '0' && raw[j] <= '9') ++j;
        if (j > i + 1 && j < raw.size() && raw[j] == 'm') {
          i = j;
          continue;
        }
      }
      line += raw[i];
    }
    std::erase_if(line, [](char c) { return c >= 1 && c <= 31; });
    if (starts_with_status(line)) {
      if (starts_with(line, "FAILED")) line = line.substr(0, std::min(line.size(), line.find(" - ")));
      auto tokens = pystr::split_whitespace(line);
      if (tokens.size() >= 2 && !is_skip_summary(tokens[0], tokens[1]))
        map[join(tokens, 1, tokens.size())] = status_of(tokens[0]);
    } else if (ends_with_status(line)) {
      auto tokens = pystr::split_whitespace(line);
      if (tokens.size() >= 2) map[join(tokens, 0, tokens.size() - 1)] = status_of(tokens.back());
    }
  }
  return map;
}

StatusMap parse_log_django(std::string_view log) {
  StatusMap map;
  std::string prev_test;
  bool have_prev = false;
  for (std::string_view raw : pystr::split(log, "\n")) {
    std::string line(pystr::strip(raw));
    if (line.find("--version is equivalent to version") != std::string::npos)
      map["--version is equivalent to version"] = TestStatus::passed;
    if (line.find(" ... ") != std::string::npos) {
      prev_test = line.substr(0, line.find(" ... "));
      have_prev = true;
    }
    for (std::string_view suffix : {" ... ok", " ... OK", " ...  OK"}) {
      if (!ends_with(line, suffix)) continue;
      // django__django-7188: a migration message shares the test's line.
      if (starts_with(pystr::strip(line), "Applying sites.0002_alter_domain_unique...test_no_migrations"))
        line = std::string(pystr::strip(line.substr(line.find("...") + 3)));
      map[line.substr(0, line.rfind(suffix))] = TestStatus::passed;
      break;
    }
    if (size_t p = line.find(" ... skipped"); p != std::string::npos) map[line.substr(0, p)] = TestStatus::skipped;
    if (ends_with(line, " ... FAIL")) map[line.substr(0, line.find(" ... FAIL"))] = TestStatus::failed;
    if (starts_with(line, "FAIL:")) {
      auto tokens = pystr::split_whitespace(line);
      if (tokens.size() > 1) map[std::string(tokens[1])] = TestStatus::failed;
    }
    if (ends_with(line, " ... ERROR")) map[line.substr(0, line.find(" ... ERROR"))] = TestStatus::error;
    if (starts_with(line, "ERROR:")) {
      auto tokens = pystr::split_whitespace(line);
      if (tokens.size() > 1) map[std::string(tokens[1])] = TestStatus::error;
    }
    // "ok" on its own line: the previous test passed after printing something.
    if (starts_with(pystr::lstrip(line), "ok") && have_prev) map[prev_test] = TestStatus::passed;
  }
  django_multiline_passes(log, map);
  return map;
}

StatusMap parse_log_sympy(std::string_view log) {
  StatusMap map;
  // re.findall(r"(_*) (.*)\.py:(.*) (_*)", log): within a line, the id runs from after the first
  // space to the last ".py:" that still has a space after it, then on to the line's last space.
  for (std::string_view line : pystr::split(log, "\n")) {
    size_t first = line.find(' ');
    size_t last = line.rfind(' ');
    if (first == std::string_view::npos || last < first + 5) continue;
    size_t py = line.rfind(".py:", last - 4);
    if (py == std::string_view::npos || py < first + 1) continue;
    map[std::string(line.substr(first + 1, py - first - 1)) + ".py:" + std::string(line.substr(py + 4, last - py - 4))] =
        TestStatus::failed;
  }
  for (std::string_view raw : pystr::split(log, "\n")) {
    std::string_view line = pystr::strip(raw);
    if (!starts_with(line, "test_")) continue;
    auto first_token = [&] { return std::string(pystr::split_whitespace(line)[0]); };
    if (ends_with(line, " E")) map[first_token()] = TestStatus::error;
    if (ends_with(line, " F")) map[first_token()] = TestStatus::failed;
    if (ends_with(line, " ok")) map[first_token()] = TestStatus::passed;
  }
  return map;
}

StatusMap parse_log_seaborn(std::string_view log) {
  StatusMap map;
  for (std::string_view line : pystr::split(log, "\n")) {
    auto parts = pystr::split_whitespace(line);
    if (parts.size() < 2) continue;
    if (starts_with(line, "FAILED")) {
      map[std::string(parts[1])] = TestStatus::failed;
    } else if (line.find(" PASSED ") != std::string_view::npos) {
      if (parts[1] == "PASSED") map[std::string(parts[0])] = TestStatus::passed;
    } else if (starts_with(line, "PASSED")) {
      map[std::string(parts[1])] = TestStatus::passed;
    }
  }
  return map;
}

StatusMap parse_log_unittest(std::string_view log) {
  StatusMap map;
  static const std::pair<std::string_view, TestStatus> kOutcomes[] = {
      {"ok", TestStatus::passed},           {"FAIL", TestStatus::failed},
      {"ERROR", TestStatus::error},         {"skipped", TestStatus::skipped},
      {"expected failure", TestStatus::xfail}, {"unexpected success", TestStatus::failed},
  };
  for (std::string_view raw : pystr::split(log, "\n")) {
    std::string_view line = pystr::strip(raw);
    size_t dots = line.find(" ... ");
    if (dots == std::string_view::npos) continue;
    std::string_view outcome = line.substr(dots + 5);
    for (const auto& [word, status] : kOutcomes) {
      if (outcome == word || (word == "skipped" && starts_with(outcome, "skipped "))) {
        map[std::string(line.substr(0, dots))] = status;
        break;
      }
    }
  }
  return map;
}

namespace {

std::string xml_unescape(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '&') {
      out += s[i];
      continue;
    }
    size_t semi = s.find(';', i);
    if (semi == std::string_view::npos) {
      out += s[i];
      continue;
    }
    std::string_view ent = s.substr(i + 1, semi - i - 1);
    if (ent == "amp") out += '&';
    else if (ent == "lt") out += '<';
    else if (ent == "gt") out += '>';
    else if (ent == "quot") out += '"';
    else if (ent == "apos") out += '\'';
    else if (!ent.empty() && ent[0] == '#') {
      long cp = ent.size() > 1 && (ent[1] == 'x' || ent[1] == 'X') ? std::strtol(std::string(ent.substr(2)).c_str(), nullptr, 16)
                                                                     : std::strtol(std::string(ent.substr(1)).c_str(), nullptr, 10);
      pystr::append_utf8(out, static_cast<char32_t>(cp));
    } else {
      out.append(s.substr(i, semi - i + 1));
    }
    i = semi;
  }
  return out;
}

}  // namespace

std::string xml_attribute(std::string_view tag, std::string_view name) {
  for (size_t p = tag.find(name); p != std::string_view::npos; p = tag.find(name, p + 1)) {
    bool word_start = p > 0 && (tag[p - 1] == ' ' || tag[p - 1] == '\t' || tag[p - 1] == '\n' || tag[p - 1] == '\r');
    size_t q = p + name.size();
    while (q < tag.size() && (tag[q] == ' ' || tag[q] == '\t')) ++q;
    if (!word_start || q >= tag.size() || tag[q] != '=') continue;
    ++q;
    while (q < tag.size() && (tag[q] == ' ' || tag[q] == '\t')) ++q;
    if (q >= tag.size() || (tag[q] != '"' && tag[q] != '\'')) continue;
    size_t end = tag.find(tag[q], q + 1);
    if (end == std::string_view::npos) return "";
    return xml_unescape(tag.substr(q + 1, end - q - 1));
  }
  return "";
}

StatusMap parse_log_junit_xml(std::string_view log) {
  StatusMap map;
  for (size_t p = log.find("<testcase"); p != std::string_view::npos; p = log.find("<testcase", p + 1)) {
    size_t tag_end = log.find('>', p);
    if (tag_end == std::string_view::npos) break;
    std::string_view tag = log.substr(p, tag_end - p);
    std::string classname = xml_attribute(tag, "classname"), name = xml_attribute(tag, "name");
    if (name.empty()) continue;
    std::string id = classname.empty() ? name : classname + "." + name;
    TestStatus status = TestStatus::passed;
    if (tag.back() != '/') {  // has a body: look for an outcome element before </testcase>
      size_t close = log.find("</testcase>", tag_end);
      std::string_view body = log.substr(tag_end, close == std::string_view::npos ? std::string_view::npos : close - tag_end);
      if (body.find("<failure") != std::string_view::npos) status = TestStatus::failed;
      else if (body.find("<error") != std::string_view::npos) status = TestStatus::error;
      else if (body.find("<skipped") != std::string_view::npos) status = TestStatus::skipped;
    }
    map[id] = status;
  }
  return map;
}

namespace {

using Parser = StatusMap (*)(std::string_view);

struct NamedParser {
  std::string_view name;
  Parser parse;
};

// SWE-bench's PARSER_REGISTRY (Python part), plus the bare runner names.
constexpr NamedParser kParsers[] = {
    {"parse_log_pytest", parse_log_pytest},
    {"parse_log_pytest_options", parse_log_pytest_options},
    {"parse_log_django", parse_log_django},
    {"parse_log_pytest_v2", parse_log_pytest_v2},
    {"parse_log_seaborn", parse_log_seaborn},
    {"parse_log_sympy", parse_log_sympy},
    {"parse_log_matplotlib", parse_log_matplotlib},
    {"parse_log_astroid", parse_log_pytest},
    {"parse_log_flask", parse_log_pytest},
    {"parse_log_marshmallow", parse_log_pytest},
    {"parse_log_pvlib", parse_log_pytest},
    {"parse_log_pyvista", parse_log_pytest},
    {"parse_log_sqlfluff", parse_log_pytest},
    {"parse_log_xarray", parse_log_pytest},
    {"parse_log_pydicom", parse_log_pytest_options},
    {"parse_log_requests", parse_log_pytest_options},
    {"parse_log_pylint", parse_log_pytest_options},
    {"parse_log_astropy", parse_log_pytest_v2},
    {"parse_log_scikit", parse_log_pytest_v2},
    {"parse_log_sphinx", parse_log_pytest_v2},
    {"parse_log_unittest", parse_log_unittest},
    {"parse_log_junit_xml", parse_log_junit_xml},
    {"pytest", parse_log_pytest},
    {"pytest_options", parse_log_pytest_options},
    {"pytest_v2", parse_log_pytest_v2},
    {"django", parse_log_django},
    {"sympy", parse_log_sympy},
    {"matplotlib", parse_log_matplotlib},
    {"seaborn", parse_log_seaborn},
    {"unittest", parse_log_unittest},
    {"junit_xml", parse_log_junit_xml},
};

// SWE-bench's MAP_REPO_TO_PARSER_PY.
constexpr std::pair<std::string_view, std::string_view> kRepoParsers[] = {
    {"astropy/astropy", "parse_log_astropy"},
    {"django/django", "parse_log_django"},
    {"marshmallow-code/marshmallow", "parse_log_marshmallow"},
    {"matplotlib/matplotlib", "parse_log_matplotlib"},
    {"mwaskom/seaborn", "parse_log_seaborn"},
    {"pallets/flask", "parse_log_flask"},
    {"psf/requests", "parse_log_requests"},
    {"pvlib/pvlib-python", "parse_log_pvlib"},
    {"pydata/xarray", "parse_log_xarray"},
    {"pydicom/pydicom", "parse_log_pydicom"},
    {"pylint-dev/astroid", "parse_log_astroid"},
    {"pylint-dev/pylint", "parse_log_pylint"},
    {"pytest-dev/pytest", "parse_log_pytest"},
    {"pyvista/pyvista", "parse_log_pyvista"},
    {"scikit-learn/scikit-learn", "parse_log_scikit"},
    {"sqlfluff/sqlfluff", "parse_log_sqlfluff"},
    {"sphinx-doc/sphinx", "parse_log_sphinx"},
    {"sympy/sympy", "parse_log_sympy"},
};

}  // namespace

bool is_known_parser(std::string_view parser_name) {
  for (const NamedParser& p : kParsers)
    if (p.name == parser_name) return true;
  return false;
}

std::vector<std::string> known_parsers() {
  std::vector<std::string> out;
  for (const NamedParser& p : kParsers) out.emplace_back(p.name);
  return out;
}

StatusMap parse_log(std::string_view parser_name, std::string_view log) {
  for (const NamedParser& p : kParsers)
    if (p.name == parser_name) return p.parse(log);
  std::string names;
  for (const NamedParser& p : kParsers) names += (names.empty() ? "" : ", ") + std::string(p.name);
  throw std::invalid_argument("unknown log parser '" + std::string(parser_name) +
                              "' (SWE-bench's non-Python parsers are not ported); known: " + names);
}

std::string parser_for_repo(std::string_view repo) {
  for (const auto& [r, parser] : kRepoParsers)
    if (r == repo) return std::string(parser);
  return "";
}

}  // namespace swebox::tasks
