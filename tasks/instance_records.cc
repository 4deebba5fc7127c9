#include "tasks/instance_records.h"

#include <algorithm>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "sandbox/text_encoding.h"

namespace swebox::tasks {
namespace {

using nlohmann::json;

// nlohmann's message without its "[json.exception.parse_error.101] " prefix. The message quotes
// the bytes last read, which may be invalid UTF-8: they are replaced, since the errors go into
// JSON (a run's summary), whose dump would throw type_error 316 on them.
std::string parse_message(const std::exception& e) {
  std::string what = sandbox::to_valid_utf8(e.what());
  if (auto close = what.find("] "); what.rfind("[json.exception", 0) == 0 && close != std::string::npos)
    what = what.substr(close + 2);
  return what;
}

int line_of(const std::string& text, size_t pos) {
  return 1 + static_cast<int>(std::count(text.begin(), text.begin() + std::min(pos, text.size()), '\n'));
}

size_t skip_space(const std::string& t, size_t i) {
  while (i < t.size() && (t[i] == ' ' || t[i] == '\t' || t[i] == '\r' || t[i] == '\n')) ++i;
  return i;
}

// End of the JSON value starting at `i` (one past it), scanning brackets and strings only:
// enough to cut an array or object into its members so that each is parsed (and reported) alone.
size_t value_end(const std::string& t, size_t i) {
  int depth = 0;
  bool in_string = false;
  for (; i < t.size(); ++i) {
    char c = t[i];
    if (in_string) {
      if (c == '\\') ++i;
      else if (c == '"') in_string = false;
      continue;
    }
    if (c == '"') in_string = true;
    else if (c == '[' || c == '{') ++depth;
    else if (c == ']' || c == '}') {
      if (depth == 0) return i;
      --depth;
    } else if (c == ',' && depth == 0) return i;
  }
  return i;
}

struct Member {
  std::string text;
  int line;          // line of the member's first character
  std::string key;   // object members only
};

// Cuts the top-level array or object starting at `open` into members. Structural damage that
// prevents cutting (a missing ':' or an unterminated container) is appended to `problems`.
std::vector<Member> split_members(const std::string& t, size_t open,
                                  std::vector<std::pair<int, std::string>>& problems) {
  std::vector<Member> members;
  bool object = t[open] == '{';
  char close = object ? '}' : ']';
  size_t i = skip_space(t, open + 1);
  if (i < t.size() && t[i] == close) return members;
  while (i < t.size()) {
    Member m;
    if (object) {
      size_t key_end = value_end(t, i);
      size_t colon = t.find(':', i);
      try {
        if (colon == std::string::npos || colon > key_end) throw std::invalid_argument("expected \"key\": value");
        m.key = json::parse(t.substr(i, colon - i)).get<std::string>();
      } catch (const std::exception& e) {
        problems.emplace_back(line_of(t, i), std::string("bad object key: ") + parse_message(e));
      }
      if (colon != std::string::npos && colon < key_end) i = skip_space(t, colon + 1);
    }
    size_t end = value_end(t, i);
    m.text = t.substr(i, end - i);
    m.line = line_of(t, i);
    members.push_back(std::move(m));
    if (end >= t.size()) {
      problems.emplace_back(line_of(t, t.size()), std::string("unterminated ") + (object ? "object" : "array") +
                                                      " (missing '" + close + "')");
      break;
    }
    if (t[end] == close) {
      size_t rest = skip_space(t, end + 1);
      if (rest < t.size()) problems.emplace_back(line_of(t, rest), "unexpected text after the closing bracket");
      break;
    }
    i = skip_space(t, end + 1);  // past ','
  }
  return members;
}

InstanceRecord record_at(const std::string& where, const std::string& text, const std::string& key = {}) {
  InstanceRecord r{where, {}, {}};
  try {
    r.value = json::parse(text);
  } catch (const json::exception& e) {  // parse_error, and out_of_range for a number like 88e504
    r.error = "invalid JSON: " + parse_message(e);
    return r;
  }
  if (!key.empty() && r.value.is_object() && !r.value.contains("instance_id")) r.value["instance_id"] = key;
  return r;
}

}  // namespace

std::vector<InstanceRecord> parse_instance_records(std::string_view text_view, const std::string& name) {
  const std::string text(text_view);
  std::vector<InstanceRecord> out;
  auto at = [&](int line) { return name + ":" + std::to_string(line); };

  size_t first = skip_space(text, 0);
  if (first < text.size() && (text[first] == '[' || text[first] == '{')) {
    bool whole_json = false;
    json whole;
    if (text[first] == '{') {
      // One object: a single record or {instance_id: record}. Anything else starting with '{'
      // (several objects) is JSONL.
      try {
        whole = json::parse(text);
        whole_json = true;
      } catch (const json::exception&) {
      }
    }
    if (text[first] == '[' || (whole_json && !whole.contains("instance_id"))) {
      std::vector<std::pair<int, std::string>> problems;
      for (const Member& m : split_members(text, first, problems)) out.push_back(record_at(at(m.line), m.text, m.key));
      for (const auto& [line, what] : problems) out.push_back({at(line), {}, what});
      return out;
    }
  }

  // JSONL: one record a line.
  std::istringstream lines(text);
  std::string line;
  int number = 0;
  while (std::getline(lines, line)) {
    ++number;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    out.push_back(record_at(at(number), line));
  }
  return out;
}

std::vector<InstanceRecord> read_instance_records(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path + " (check the path)");
  std::stringstream buffer;
  buffer << in.rdbuf();
  return parse_instance_records(buffer.str(), path);
}

}  // namespace swebox::tasks
