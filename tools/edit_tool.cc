// edit: one SEARCH/REPLACE block applied to one file (CWM's plugins/edit.py, done through the
// sandbox's confined file API instead of a script in the session).
#include <algorithm>
#include <cstdio>

#include "tools/builtin_tools.h"
#include "tools/session_path.h"

namespace swebox::tools {
namespace {
constexpr std::string_view kSearch = "\n<<<<<<< SEARCH\n", kDivider = "\n=======\n", kReplace = "\n>>>>>>> REPLACE";
constexpr long kSnippetLines = 8;

std::vector<size_t> occurrences(std::string_view text, std::string_view needle) {  // overlapping, like edit.py
  std::vector<size_t> at;
  for (size_t pos = text.find(needle); pos != std::string_view::npos; pos = text.find(needle, pos + 1)) at.push_back(pos);
  return at;
}

long count_newlines(std::string_view s, size_t end = std::string_view::npos) {
  s = s.substr(0, std::min(end, s.size()));
  return static_cast<long>(std::count(s.begin(), s.end(), '\n'));
}

ToolResult failure(std::string kind, std::string feedback) { return tool_failure("edit", std::move(kind), std::move(feedback)); }
}  // namespace

std::vector<EditBlock> find_edit_blocks(std::string_view body) {
  // The regex's `(.*)` cannot cross a newline, so each match is: the text of the line before a
  // "<<<<<<< SEARCH" line (from where the scan resumed), the shortest search up to the first
  // divider, the shortest replacement up to the first "\n>>>>>>> REPLACE".
  std::vector<EditBlock> blocks;
  size_t from = 0;
  while (true) {
    size_t marker = body.find(kSearch, from);
    if (marker == std::string_view::npos) break;
    size_t search_begin = marker + kSearch.size();
    size_t divider = body.find(kDivider, search_begin);
    if (divider == std::string_view::npos) break;
    size_t replace_begin = divider + kDivider.size();
    size_t end = body.find(kReplace, replace_begin);
    if (end == std::string_view::npos) break;
    size_t line_start = marker == 0 ? 0 : body.rfind('\n', marker - 1);
    line_start = line_start == std::string_view::npos || marker == 0 ? 0 : line_start + 1;
    size_t path_begin = std::max(from, line_start);
    blocks.push_back({std::string(body.substr(path_begin, marker - path_begin)),
                      std::string(body.substr(search_begin, divider - search_begin)),
                      std::string(body.substr(replace_begin, end - replace_begin))});
    from = end + kReplace.size();
  }
  return blocks;
}

std::string edit_body(const EditBlock& b) {
  return b.path + std::string(kSearch) + b.search + std::string(kDivider) + b.replace + std::string(kReplace);
}

std::string numbered_snippet(std::string_view content, long first, long last) {
  std::string out;
  long line = 1;
  size_t pos = 0;
  while (line <= last) {
    size_t nl = content.find('\n', pos);
    std::string_view text = content.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos);
    if (line >= first) {
      char number[32];
      std::snprintf(number, sizeof number, "%6ld\t", line);
      if (!out.empty()) out += '\n';
      out += number;
      out += text;
    }
    if (nl == std::string_view::npos) break;  // split("\n") yields no line past the last
    pos = nl + 1;
    ++line;
  }
  return out;
}

std::string universal_newlines(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '\r') {
      out += text[i];
      continue;
    }
    out += '\n';
    if (i + 1 < text.size() && text[i + 1] == '\n') ++i;
  }
  return out;
}

// CPython's message for the first error in decoding `data` as UTF-8 ("can't decode byte 0xe9 in
// position 3: invalid continuation byte"), as `open(path).read()` raises it in CWM's edit plugin
// (tools/edit_not_utf8 under the cwm wording shows it). "" when `data` is valid UTF-8. The rules are
// CPython's decoder's: a byte that cannot start a sequence is an invalid start byte; a sequence cut
// by a byte outside its allowed range is an invalid continuation byte, spanning the bytes before
// it; one cut by the end of the data is unexpected end of data, spanning what is left.
std::string cpython_utf8_decode_error(std::string_view data) {
  const auto* s = reinterpret_cast<const unsigned char*>(data.data());
  const size_t n = data.size();
  for (size_t i = 0; i < n;) {
    unsigned char c = s[i];
    if (c < 0x80) {
      ++i;
      continue;
    }
    size_t len = c >= 0xC2 && c <= 0xDF ? 2 : c >= 0xE0 && c <= 0xEF ? 3 : c >= 0xF0 && c <= 0xF4 ? 4 : 0;
    const char* reason = nullptr;
    size_t end = i + 1;
    if (len == 0) {
      reason = "invalid start byte";
    } else {
      // The allowed range of the second byte (overlongs and surrogates excluded), then 80..BF.
      unsigned char lo = 0x80, hi = 0xBF;
      if (c == 0xE0) lo = 0xA0;
      if (c == 0xED) hi = 0x9F;
      if (c == 0xF0) lo = 0x90;
      if (c == 0xF4) hi = 0x8F;
      size_t k = 1;
      for (; k < len; ++k) {
        if (i + k >= n) break;
        unsigned char b = s[i + k];
        bool ok = k == 1 ? (b >= lo && b <= hi) : (b >= 0x80 && b <= 0xBF);
        if (!ok) break;
      }
      if (k == len) {
        i += len;
        continue;
      }
      if (i + k >= n) {
        reason = "unexpected end of data";
        end = n;
      } else {
        reason = "invalid continuation byte";
        end = i + k;
      }
    }
    char buf[160];
    if (end - i == 1)
      snprintf(buf, sizeof buf, "can't decode byte 0x%02x in position %zu: %s", c, i, reason);
    else
      snprintf(buf, sizeof buf, "can't decode bytes in position %zu-%zu: %s", i, end - 1, reason);
    return buf;
  }
  return "";
}

ToolResult edit_file(sandbox::Sandbox& sandbox, const std::string& cwd, std::string_view body,
                     const Templates& templates, bool universal, bool require_utf8) {
  std::vector<EditBlock> blocks = find_edit_blocks(body);
  if (blocks.empty()) return failure("no_block", templates.render("tools/edit_no_block"));
  if (blocks.size() > 1)
    return failure("many_blocks", templates.render("tools/edit_many_blocks", {{"count", std::to_string(blocks.size())}}));
  const EditBlock& block = blocks.front();
  const std::string& path = block.path;
  const std::string target = resolve_session_path(cwd, path);
  if (path.empty() || !sandbox.exists(target))
    return failure("path_missing", templates.render("tools/edit_path_missing", {{"path", path}}));
  auto read = sandbox.read_file(target);
  if (auto* error = std::get_if<sandbox::FileError>(&read))
    return failure("unreadable", templates.render("tools/edit_unreadable", {{"path", path}, {"reason", error->message}}));
  if (require_utf8 && !is_valid_utf8(std::get<std::string>(read)))
    return failure("not_utf8", templates.render("tools/edit_not_utf8", {{"path", path},
                                                                        {"decode_error", cpython_utf8_decode_error(std::get<std::string>(read))}}));

  // A leading "\n" on both sides makes a match start at a line start.
  const std::string file = "\n" + (universal ? universal_newlines(std::get<std::string>(read)) : std::get<std::string>(read));
  const std::string search = "\n" + block.search;
  std::vector<size_t> found = occurrences(file, search);
  if (found.empty()) {
    std::string feedback = templates.render("tools/edit_not_found", {{"path", path}});
    std::string_view first_line = std::string_view(block.search).substr(0, block.search.find('\n'));
    size_t indent = first_line.find_first_not_of(" \t\n\r\f\v");  // Python's lstrip()
    std::string_view stripped = indent == std::string_view::npos ? std::string_view{} : first_line.substr(indent);
    if (file.find(stripped) != std::string::npos) feedback += " " + templates.render("tools/edit_indent_hint");
    return failure("not_found", feedback);
  }
  if (found.size() > 1) {
    std::string lines;
    for (size_t at : found) lines += (lines.empty() ? "" : ", ") + std::to_string(count_newlines(file, at) + 1);
    return failure("many_matches", templates.render("tools/edit_many_matches", {{"path", path}, {"lines", lines}}));
  }

  std::string updated = file.substr(1, found[0]) + block.replace + file.substr(found[0] + search.size());
  if (auto error = sandbox.write_file(target, updated))
    return failure("write_failed", templates.render("tools/edit_write_failed", {{"path", path}, {"reason", error->message}}));

  long line = count_newlines(file, found[0]) + 1;
  long first = std::max(1L, line - kSnippetLines);
  long last = line + kSnippetLines + count_newlines(block.replace);
  ToolResult r;
  r.tool = "edit";
  r.ok = true;
  r.feedback = templates.render("tools/edit_done", {{"path", path},
                                                    {"line", std::to_string(line)},
                                                    {"num_lines", std::to_string(count_newlines(updated) + 1)},
                                                    {"snippet", numbered_snippet(updated, first, last)}});
  return r;
}

}  // namespace swebox::tools
