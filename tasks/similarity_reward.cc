#include "tasks/similarity_reward.h"

#include <algorithm>
#include <optional>
#include <stdexcept>

#include "tasks/difflib.h"
#include "tasks/python_str.h"

namespace swebox::tasks {
namespace {

using pystr::starts_with;

// SWE-RL's FormatError: the reply does not follow the format, reward -1.
struct FormatError : std::invalid_argument {
  using std::invalid_argument::invalid_argument;
};

// ---------------------------------------------------------------------------------------------
// Search/replace form.

// extract_thought_solution: exactly one of each tag; the text after <think> up to </think>
// (Python's split()[1].split()[0]) must not be blank.
std::pair<std::string_view, std::string_view> extract_thought_solution(std::string_view output) {
  for (std::string_view tag : {"<think>", "</think>", "<solution>", "</solution>"})
    if (pystr::count(output, tag) != 1) throw FormatError("count of " + std::string(tag) + " is not 1");
  auto between = [&](std::string_view open, std::string_view close) {
    std::string_view after = output.substr(output.find(open) + open.size());
    size_t end = after.find(close);
    return pystr::strip(end == std::string_view::npos ? after : after.substr(0, end));
  };
  std::string_view thought = between("<think>", "</think>");
  std::string_view answer = between("<solution>", "</solution>");
  if (thought.empty()) throw FormatError("Thought is empty");
  return {thought, answer};
}

}  // namespace

// The regex ```.*?\n### (.*)\n<<<<<<< SEARCH\n([\s\S]*?)\n=======\n([\s\S]*?)\n>>>>>>> REPLACE\n```
// scanned as re.findall does: '.' stops at '\n', so the fence and "### path" are consecutive lines;
// the lazy groups end at the first "\n=======\n" and then the first "\n>>>>>>> REPLACE\n```" (if that
// fails, no later separator can succeed either, so the match at this start fails).
SearchReplaceEdits parse_search_replace(std::string_view text) {
  static constexpr std::string_view kSearch = "\n<<<<<<< SEARCH\n";
  static constexpr std::string_view kDivider = "\n=======\n";
  static constexpr std::string_view kEnd = "\n>>>>>>> REPLACE\n```";
  SearchReplaceEdits out;
  size_t pos = 0;
  while (true) {
    size_t fence = text.find("```", pos);
    if (fence == std::string_view::npos) break;
    auto fail = [&] { pos = fence + 1; };
    size_t nl = text.find('\n', fence + 3);
    if (nl == std::string_view::npos || !starts_with(text.substr(nl + 1), "### ")) { fail(); continue; }
    size_t path_start = nl + 5;
    size_t path_end = text.find('\n', path_start);
    if (path_end == std::string_view::npos || !starts_with(text.substr(path_end), kSearch)) { fail(); continue; }
    size_t search_start = path_end + kSearch.size();
    size_t divider = text.find(kDivider, search_start);
    if (divider == std::string_view::npos) { fail(); continue; }
    size_t replace_start = divider + kDivider.size();
    size_t end = text.find(kEnd, replace_start);
    if (end == std::string_view::npos) { fail(); continue; }
    std::string path(text.substr(path_start, path_end - path_start));
    SearchReplaceEdit edit{std::string(text.substr(search_start, divider - search_start)),
                           std::string(text.substr(replace_start, end - replace_start))};
    auto it = std::find_if(out.begin(), out.end(), [&](const auto& entry) { return entry.first == path; });
    if (it == out.end()) {
      out.emplace_back(path, std::vector<SearchReplaceEdit>{});
      it = out.end() - 1;
    }
    it->second.push_back(std::move(edit));
    pos = end + kEnd.size();
  }
  return out;
}

FileContents apply_search_replace(const FileContents& original, const SearchReplaceEdits& edits) {
  FileContents out;
  for (const auto& [path, list] : edits) {
    auto orig = original.find(path);
    std::string content = "\n" + (orig == original.end() ? std::string() : orig->second);
    for (const SearchReplaceEdit& e : list) {
      if (e.search == e.replace) throw FormatError("Search and replace blocks are identical");
      std::string search = "\n" + e.search;
      if (content.find(search) == std::string::npos)
        throw FormatError("Search block not found in the code: " + search);
      content = pystr::replace_all(content, search, "\n" + e.replace);
    }
    out[path] = content.substr(1);
  }
  return out;
}

std::string normalized_file_diff(std::string_view old_content, std::string_view new_content) {
  std::vector<std::string> lines = difflib::unified_diff(pystr::splitlines(old_content), pystr::splitlines(new_content),
                                                         "old", "new", "", "", 3, "");
  if (lines.size() < 2) return "";
  std::string out;
  for (size_t i = 2; i < lines.size(); ++i) {
    if (i > 2) out += '\n';
    out += lines[i];
  }
  return out;
}

namespace {

// get_normalized_patch: the change text of every file whose diff is not empty.
FileContents normalized_changes(const FileContents& original, const FileContents& new_contents) {
  FileContents out;
  for (const auto& [path, content] : new_contents) {
    auto orig = original.find(path);
    std::string diff = normalized_file_diff(orig == original.end() ? std::string_view() : orig->second, content);
    if (!diff.empty()) out[path] = std::move(diff);
  }
  return out;
}

SimilarityResult format_error(const std::exception& e) {
  SimilarityResult r;
  r.reward = -1.0;
  r.error = e.what();
  return r;
}

}  // namespace

SimilarityResult score_changes(const FileContents& pred_changes, const FileContents& oracle_changes,
                               double both_empty_reward) {
  SimilarityResult r;
  std::map<std::string, std::pair<std::string, std::string>> all;  // path -> (pred, oracle)
  for (const auto& [path, change] : pred_changes) all[path].first = change;
  for (const auto& [path, change] : oracle_changes) all[path].second = change;
  double sum = 0.0;
  for (auto& [path, sides] : all) {
    FileSimilarity f{path, std::move(sides.first), std::move(sides.second), 0.0};
    // An empty change on either side scores 0 (SWE-RL: it stops rewarding empty edits).
    if (!f.pred_change.empty() && !f.oracle_change.empty())
      f.similarity = difflib::ratio_utf8(f.pred_change, f.oracle_change, /*autojunk=*/false);
    sum += f.similarity;
    r.files.push_back(std::move(f));
  }
  r.reward = r.files.empty() ? both_empty_reward : sum / static_cast<double>(r.files.size());
  return r;
}

SimilarityResult content_reward(const FileContents& original, const FileContents& oracle_new,
                                const FileContents& pred_new) {
  return score_changes(normalized_changes(original, pred_new), normalized_changes(original, oracle_new));
}

SimilarityResult search_replace_reward(const FileContents& original, const FileContents& oracle_new,
                                       std::string_view output) {
  try {
    auto [thought, answer] = extract_thought_solution(output);
    SearchReplaceEdits edits = parse_search_replace(answer);
    if (edits.empty()) throw FormatError("No valid search blocks found");
    return content_reward(original, oracle_new, apply_search_replace(original, edits));
  } catch (const FormatError& e) {
    return format_error(e);
  }
}

// ---------------------------------------------------------------------------------------------
// Unified-diff form: a port of what unidiff 0.7.5's PatchSet keeps of a patch, enough to
// reproduce str(hunk) and the file paths, including when it rejects a patch.

namespace {

struct UnidiffError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

constexpr std::string_view kDevNull = "/dev/null";

struct PatchHunk {
  std::string text;  // str(hunk): header line + every line as type + value
};

struct PatchFile {
  std::string source, target;
  bool binary = false;
  std::vector<PatchHunk> hunks;
  bool is_rename() const {
    auto tail = [](const std::string& s) { return s.size() > 2 ? s.substr(2) : std::string(); };
    return source != kDevNull && target != kDevNull && tail(source) != tail(target);
  }
  std::string path() const {
    std::string p = (source == kDevNull || (is_rename() && target != kDevNull)) ? target : source;
    if (starts_with(p, "a/") || starts_with(p, "b/")) p = p.substr(2);
    return p;
  }
};

// The line without its '\n' terminator (StringIO iteration keeps it).
std::string_view chomp(std::string_view line) {
  return !line.empty() && line.back() == '\n' ? line.substr(0, line.size() - 1) : line;
}

// [^\t\n]+ from `pos`: returns the end, or npos when empty.
size_t span_no_tab(std::string_view line, size_t pos) {
  size_t e = pos;
  while (e < line.size() && line[e] != '\t' && line[e] != '\n') ++e;
  return e > pos ? e : std::string_view::npos;
}

// (.*://[^\t\n]+) (.*://[^\t\n]+) matched at `start` of a line without its '\n', as Python's re
// does (greedy, backtracking; '.' is anything but '\n'), in linear time: std::regex recursed per
// character, so a long header line in an agent's patch overflowed the stack, and it backtracked in
// cubic time (fuzz/corpus/unidiff/crash-*).
bool match_uri_header(std::string_view l, size_t start, std::string& source, std::string& target) {
  const size_t n = l.size(), none = std::string_view::npos;
  if (l.find("://", start) == none) return false;
  // The target's greedy `.*` takes the last "://" of the line that one [^\t\n] follows, whatever
  // the space before it; its run then goes to the next tab.
  size_t q2 = none;
  for (size_t q = n; q-- > start;)
    if (l.compare(q, 3, "://") == 0 && q + 3 < n && l[q + 3] != '\t') {
      q2 = q;
      break;
    }
  if (q2 == none || q2 < start + 5) return false;
  std::vector<size_t> tab_at(n + 1, n), space_at(n, none);  // next tab at/after i; last space at/before i
  for (size_t i = n; i-- > 0;) tab_at[i] = l[i] == '\t' ? i : tab_at[i + 1];
  for (size_t i = 0; i < n; ++i) space_at[i] = l[i] == ' ' ? i : i ? space_at[i - 1] : none;
  // The source's greedy `.*` tries its "://" from the right; its [^\t\n]+ run then ends at the last
  // space that leaves a target after it.
  for (size_t p1 = q2 - 4; p1-- > start;) {
    if (l.compare(p1, 3, "://") != 0) continue;
    size_t hi = std::min(tab_at[p1 + 3], q2) - 1;  // the space must be inside the run and before q2
    size_t s = space_at[hi];
    if (s == none || s < p1 + 4) continue;
    source = l.substr(start, s - start);
    target = l.substr(s + 1, tab_at[q2 + 3] - (s + 1));
    return true;
  }
  return false;
}

// ^diff --git (a/[^\t\n]+) (b/[^\t\n]+), then the URI-like form, then (\S..) (\S..) without prefixes;
// the greedy source ends at the last separator that leaves a valid target.
bool match_git_header(std::string_view line, std::string& source, std::string& target) {
  static constexpr std::string_view kPrefix = "diff --git ";
  if (!starts_with(line, kPrefix)) return false;
  size_t start = kPrefix.size();
  size_t stop = start;
  while (stop < line.size() && line[stop] != '\t' && line[stop] != '\n') ++stop;
  std::string_view body = line.substr(start, stop - start);  // source and target live in here
  // a/ b/ form
  if (starts_with(body, "a/")) {
    for (size_t k = body.size(); k-- > 3;) {
      if (body.compare(k, 3, " b/") == 0 && k + 3 < body.size()) {
        source = body.substr(0, k);
        target = body.substr(k + 1);
        return true;
      }
    }
  }
  // URI-like form: (.*://[^\t\n]+) (.*://[^\t\n]+); '.' may cross tabs.
  if (match_uri_header(chomp(line), start, source, target)) return true;
  for (size_t k = body.size(); k-- > 1;) {
    if (body[k] == ' ' && k + 1 < body.size()) {
      source = body.substr(0, k);
      target = body.substr(k + 1);
      return true;
    }
  }
  return false;
}

// ^--- ([^\t\n]+)(\t...)? and ^\+\+\+ ...
bool match_file_header(std::string_view line, std::string_view prefix, std::string& file) {
  if (!starts_with(line, prefix)) return false;
  size_t e = span_no_tab(line, prefix.size());
  if (e == std::string_view::npos) return false;
  file = line.substr(prefix.size(), e - prefix.size());
  return true;
}

// ^(new|deleted) file mode \d+$  ('$' also matches before a final '\n')
bool match_mode_line(std::string_view line, std::string_view prefix) {
  if (!starts_with(line, prefix)) return false;
  std::string_view digits = chomp(line.substr(prefix.size()));
  if (digits.empty()) return false;
  for (char c : digits)
    if (c < '0' || c > '9') return false;
  return true;
}

struct HunkHeader {
  std::string src_start, tgt_start;  // digits as printed by Python's int (no leading zeros)
  unsigned long long src_len = 1, tgt_len = 1;
  std::string section;
};

// ^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))?\ @@[ ]?(.*)
bool match_hunk_header(std::string_view line, HunkHeader& h) {
  size_t p = 0;
  auto lit = [&](std::string_view s) {
    if (line.compare(p, s.size(), s) != 0) return false;
    p += s.size();
    return true;
  };
  auto digits = [&](std::string* text, unsigned long long* value) {
    size_t s = p;
    while (p < line.size() && line[p] >= '0' && line[p] <= '9') ++p;
    if (p == s) return false;
    std::string_view d = line.substr(s, p - s);
    size_t nz = d.find_first_not_of('0');
    if (text) *text = nz == std::string_view::npos ? "0" : std::string(d.substr(nz));
    if (value) {
      // A length this large can never be satisfied; saturating keeps "shorter than expected".
      *value = d.size() > 15 ? (1ULL << 60) : std::stoull(std::string(d));
    }
    return true;
  };
  if (!lit("@@ -") || !digits(&h.src_start, nullptr)) return false;
  h.src_len = 1;
  if (p < line.size() && line[p] == ',') {
    size_t save = p++;
    if (!digits(nullptr, &h.src_len)) p = save, h.src_len = 1;
  }
  if (!lit(" +") || !digits(&h.tgt_start, nullptr)) return false;
  h.tgt_len = 1;
  if (p < line.size() && line[p] == ',') {
    size_t save = p++;
    if (!digits(nullptr, &h.tgt_len)) p = save, h.tgt_len = 1;
  }
  if (!lit(" @@")) return false;
  if (p < line.size() && line[p] == ' ') ++p;
  size_t e = line.find('\n', p);
  h.section = line.substr(p, e == std::string_view::npos ? std::string_view::npos : e - p);
  return true;
}

// ^Binary files? ([^\t]+?)(?:\t([\s0-9:\+-]+))?(?: and ([^\t]+?)(?:\t([\s0-9:\+-]+))?)? (differ|has changed)
// (\s as ASCII whitespace), giving the lazy source name. In linear time, for the same reason as
// match_uri_header: the regex overflowed the stack on a long line (fuzz/corpus/unidiff/crash-*).
// Each table below says, per position, whether the rest of the pattern can match from there.
bool match_binary_line(std::string_view l, std::string& source) {
  size_t start;
  if (starts_with(l, "Binary files ")) start = 13;
  else if (starts_with(l, "Binary file ")) start = 12;
  else return false;
  const size_t n = l.size();
  auto in_ts = [](char c) {  // [\s0-9:\+-]
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v' || (c >= '0' && c <= '9') ||
           c == ':' || c == '+' || c == '-';
  };
  auto end_at = [&](size_t i) { return l.compare(i, 7, " differ") == 0 || l.compare(i, 12, " has changed") == 0; };
  // end_reach[i]: [\s0-9:+-]* from i, then " differ|has changed".
  std::vector<char> end_reach(n + 2, 0), name_tail(n + 2, 0), and_reach(n + 2, 0), ts_reach(n + 2, 0);
  for (size_t i = n + 1; i-- > 0;) end_reach[i] = i <= n && (end_at(i) || (i < n && in_ts(l[i]) && end_reach[i + 1]));
  // after a target name: the end, or "\t" timestamp then the end.
  auto target_tail = [&](size_t f) {
    return end_at(f) || (f + 1 < n && l[f] == '\t' && in_ts(l[f + 1]) && end_reach[f + 2]);
  };
  // name_tail[i]: a lazy [^\t]+ target name from i, then target_tail.
  for (size_t i = n; i-- > 0;) name_tail[i] = l[i] != '\t' && (target_tail(i + 1) || name_tail[i + 1]);
  auto and_part = [&](size_t e) { return l.compare(e, 5, " and ") == 0 && e + 5 < n && name_tail[e + 5]; };
  // ts_reach[i]: [\s0-9:+-]* from i, then the end or the " and ..." part.
  for (size_t i = n + 1; i-- > 0;)
    ts_reach[i] = i <= n && (end_at(i) || and_part(i) || (i < n && in_ts(l[i]) && ts_reach[i + 1]));
  auto rest = [&](size_t e) {
    return end_at(e) || and_part(e) || (e + 1 < n && l[e] == '\t' && in_ts(l[e + 1]) && ts_reach[e + 2]);
  };
  for (size_t e = start + 1; e <= n && l[e - 1] != '\t'; ++e)
    if (rest(e)) {
      source = l.substr(start, e - start);
      return true;
    }
  return false;
}

// Reads one hunk's lines after its header, as PatchedFile._parse_hunk does (full, not metadata_only).
void parse_hunk(const HunkHeader& h, const std::vector<std::string_view>& lines, size_t& next, PatchFile& file) {
  PatchHunk hunk;
  hunk.text = "@@ -" + h.src_start + "," + std::to_string(h.src_len) + " +" + h.tgt_start + "," +
              std::to_string(h.tgt_len) + " @@" + (h.section.empty() ? "" : " " + h.section) + "\n";
  unsigned long long src = 0, tgt = 0;  // lines seen, relative to the starts
  while (next < lines.size()) {
    std::string_view line = lines[next++];
    char type = line[0];
    std::string_view value;
    if (type == '-' || type == ' ' || type == '+' || type == '\\') {
      value = line.substr(1);
    } else if (type == '\r' || type == '\n') {
      type = ' ';
      size_t n = (line.size() > 1 && (line[1] == '\r' || line[1] == '\n')) ? 2 : 1;
      value = line.substr(0, n);
    } else {
      throw UnidiffError("Hunk diff line expected");
    }
    if (type == '+') ++tgt;
    else if (type == '-') ++src;
    else if (type == ' ') ++src, ++tgt;
    if (src > h.src_len || tgt > h.tgt_len) throw UnidiffError("Hunk is longer than expected");
    hunk.text += type;
    hunk.text += value;
    if (src == h.src_len && tgt == h.tgt_len) break;
  }
  if (src < h.src_len || tgt < h.tgt_len) throw UnidiffError("Hunk is shorter than expected");
  file.hunks.push_back(std::move(hunk));
}

// PatchSet._parse (unidiff 0.7.5). Throws UnidiffError where unidiff raises (or would hit an
// UnboundLocalError / AttributeError on malformed input).
std::vector<PatchFile> parse_patch(std::string_view text) {
  std::vector<std::string_view> lines;
  for (size_t s = 0; s < text.size();) {
    size_t e = text.find('\n', s);
    e = e == std::string_view::npos ? text.size() : e + 1;
    lines.push_back(text.substr(s, e - s));
    s = e;
  }
  std::vector<PatchFile> files;
  constexpr size_t kNone = static_cast<size_t>(-1);
  size_t current = kNone;  // index into files of unidiff's current_file
  bool have_info = false;         // patch_info is not None
  std::optional<std::string> source_var;  // unidiff's `source_file` local, set by several branches
  bool seen_source_header = false;         // its `source_timestamp` local is only set by "--- "
  std::string name, other;
  size_t next = 0;
  while (next < lines.size()) {
    std::string_view line = lines[next++];
    if (match_git_header(line, name, other)) {
      files.push_back(PatchFile{name, other, false, {}});
      current = files.size() - 1;
      have_info = true;
      source_var = name;
      continue;
    }
    if (match_mode_line(line, "new file mode ")) {
      if (current == kNone || !have_info) throw UnidiffError("Unexpected new file found");
      files[current].source = kDevNull;
      continue;
    }
    if (match_mode_line(line, "deleted file mode ")) {
      if (current == kNone || !have_info) throw UnidiffError("Unexpected deleted file found");
      files[current].target = kDevNull;
      continue;
    }
    if (match_file_header(line, "--- ", name)) {
      source_var = name;
      seen_source_header = true;
      if (current != kNone && files[current].source != name) current = kNone;
      continue;
    }
    if (match_file_header(line, "+++ ", name)) {
      if (current != kNone && files[current].target != name) throw UnidiffError("Target without source");
      if (current == kNone) {
        // unidiff hits an UnboundLocalError here (caught by CWM) without an earlier "--- " line.
        if (!source_var || !seen_source_header) throw UnidiffError("target file header before any source header");
        files.push_back(PatchFile{*source_var, name, false, {}});
        current = files.size() - 1;
        have_info = false;
      }
      continue;
    }
    HunkHeader h;
    if (match_hunk_header(line, h)) {
      have_info = false;
      if (current == kNone) throw UnidiffError("Unexpected hunk found");
      parse_hunk(h, lines, next, files[current]);
      continue;
    }
    if (starts_with(line, "\\ No newline at end of file")) {
      if (current == kNone || files[current].hunks.empty()) throw UnidiffError("Unexpected marker");
      files[current].hunks.back().text += "\\ No newline at end of file\n";
      continue;
    }
    if (line == "\n" && current != kNone) {
      if (files[current].hunks.empty()) throw UnidiffError("Unexpected trailing newline character");
      files[current].hunks.back().text += "\n";
      continue;
    }
    if (!have_info) {
      current = kNone;
      have_info = true;
    }
    if (match_binary_line(line, name)) {
      if (current != kNone) {
        files[current].binary = true;
      } else {
        PatchFile f;
        f.binary = true;
        files.push_back(std::move(f));
      }
      source_var = name;
      have_info = false;
      current = kNone;
      continue;
    }
    if (line == "GIT binary patch\n") {
      if (current == kNone) throw UnidiffError("GIT binary patch outside a file");
      files[current].binary = true;
      have_info = false;
      current = kNone;
      continue;
    }
    // otherwise the line is patch info
  }
  return files;
}

}  // namespace

FileContents normalized_patch_files(std::string_view patch_text) {
  std::vector<PatchFile> files;
  try {
    files = parse_patch(patch_text);
  } catch (const UnidiffError&) {
    return {};
  }
  FileContents out;
  for (const PatchFile& f : files) {
    if (f.binary) continue;
    std::string header, path;
    if (f.is_rename()) {
      std::string source = starts_with(f.source, "a/") ? f.source.substr(2) : f.source;
      std::string target = starts_with(f.target, "b/") ? f.target.substr(2) : f.target;
      header = "rename from " + source + " to " + target;
      path = source;
    } else {
      path = f.path();
    }
    std::string content = header + "\n";
    for (size_t i = 0; i < f.hunks.size(); ++i) {
      if (i) content += '\n';
      content += pystr::strip(f.hunks[i].text);
    }
    out[path] = std::string(pystr::strip(content));
  }
  return out;
}

SimilarityResult unidiff_reward(std::string_view oracle_patch, std::string_view pred_patch,
                                bool ignore_non_oracle_files, double both_empty_reward) {
  FileContents oracle = normalized_patch_files(oracle_patch);
  FileContents pred = normalized_patch_files(pred_patch);
  if (ignore_non_oracle_files)
    std::erase_if(pred, [&](const auto& entry) { return !oracle.count(entry.first); });
  return score_changes(pred, oracle, both_empty_reward);
}

}  // namespace swebox::tasks
