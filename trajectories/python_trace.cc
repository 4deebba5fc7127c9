#include "trajectories/python_trace.h"

#include <array>

#include <nlohmann/json.hpp>

namespace swebox::traj {
namespace tok = trace_token;

const char* to_string(TraceEvent e) {
  switch (e) {
    case TraceEvent::call: return "call";
    case TraceEvent::line: return "line";
    case TraceEvent::return_: return "return";
    case TraceEvent::exception: return "exception";
  }
  return "?";
}

std::optional<TraceEvent> trace_event_named(std::string_view name) {
  for (TraceEvent e : {TraceEvent::call, TraceEvent::line, TraceEvent::return_, TraceEvent::exception})
    if (name == to_string(e)) return e;
  return std::nullopt;
}

bool same_frame(const TraceFrame& a, const TraceFrame& b) {
  return a.event == b.event && a.source == b.source && a.locals == b.locals && a.value == b.value;
}

namespace {

bool has_locals(TraceEvent e) { return e == TraceEvent::call || e == TraceEvent::line; }

std::string_view event_token(TraceEvent e) {
  switch (e) {
    case TraceEvent::call: return tok::call_sep;
    case TraceEvent::line: return tok::line_sep;
    case TraceEvent::return_: return tok::return_sep;
    case TraceEvent::exception: return tok::exception_sep;
  }
  return {};
}

// The next code point of UTF-8 text at *i (advanced); U+FFFD for a byte that does not start a
// well-formed sequence (overlong forms, surrogates and values past U+10FFFF included).
uint32_t next_code_point(std::string_view s, size_t* i) {
  auto byte = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  unsigned char c = byte(*i);
  if (c < 0x80) {
    ++*i;
    return c;
  }
  int n = c >= 0xF0 && c <= 0xF4 ? 3 : c >= 0xE0 ? (c <= 0xEF ? 2 : -1) : c >= 0xC2 && c <= 0xDF ? 1 : -1;
  if (n < 0 || *i + n >= s.size()) {  // not a lead byte, or the text ends inside the sequence
    ++*i;
    return 0xFFFD;
  }
  uint32_t cp = c & (0x3F >> n);
  for (int k = 1; k <= n; ++k) {
    unsigned char d = byte(*i + k);
    if ((d & 0xC0) != 0x80) {
      ++*i;
      return 0xFFFD;
    }
    cp = (cp << 6) | (d & 0x3F);
  }
  static constexpr std::array<uint32_t, 4> kLowest = {0, 0x80, 0x800, 0x10000};
  if (cp < kLowest[n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
    ++*i;
    return 0xFFFD;
  }
  *i += n + 1;
  return cp;
}

void append_u_escape(std::string& out, uint32_t unit) {
  static constexpr char kHex[] = "0123456789abcdef";
  out += "\\u";
  for (int shift = 12; shift >= 0; shift -= 4) out += kHex[(unit >> shift) & 0xF];
}

std::string_view after(std::string_view s, std::string_view prefix) { return s.substr(prefix.size()); }

}  // namespace

std::string python_json_string(std::string_view utf8) {
  std::string out;
  out.reserve(utf8.size() + 2);
  out += '"';
  size_t i = 0;
  while (i < utf8.size()) {
    uint32_t cp = next_code_point(utf8, &i);
    switch (cp) {
      case '"': out += "\\\""; continue;
      case '\\': out += "\\\\"; continue;
      case '\n': out += "\\n"; continue;
      case '\r': out += "\\r"; continue;
      case '\t': out += "\\t"; continue;
      case '\b': out += "\\b"; continue;
      case '\f': out += "\\f"; continue;
      default: break;
    }
    if (cp >= 0x20 && cp < 0x7F) {   // json.dumps keeps ' ' to '~' as they are, escapes the rest (DEL too)
      out += static_cast<char>(cp);
    } else if (cp < 0x10000) {
      append_u_escape(out, cp);
    } else {
      uint32_t v = cp - 0x10000;
      append_u_escape(out, 0xD800 | (v >> 10));
      append_u_escape(out, 0xDC00 | (v & 0x3FF));
    }
  }
  out += '"';
  return out;
}

std::string python_json_locals(const TraceLocals& locals) {
  std::string out = "{";
  bool first = true;
  for (const auto& [name, value] : locals) {
    if (!first) out += ", ";
    first = false;
    out += python_json_string(name);
    out += ": ";
    out += python_json_string(value);
  }
  out += "}";
  return out;
}

std::string mark_trace_entry(std::string_view program, int entry_line) {
  std::string out;
  int line = 1;
  size_t start = 0;
  while (start < program.size()) {
    size_t end = program.find('\n', start);
    size_t stop = end == std::string_view::npos ? program.size() : end;
    out.append(program.substr(start, stop - start));
    if (line == entry_line) out.append(kStartOfTraceMarker);
    if (end == std::string_view::npos) break;
    out += '\n';
    start = end + 1;
    ++line;
  }
  return out;
}

std::string render_trace_prompt(std::string_view context) {
  std::string out;
  out.reserve(context.size() + 64);
  out.append(tok::begin_of_text).append(tok::context_start).append(context).append(tok::frame_sep);
  return out;
}

std::string render_trace(const Trace& trace) {
  std::string out = render_trace_prompt(trace.context);
  for (const TraceFrame& f : trace.frames) {
    out.append(event_token(f.event));
    if (has_locals(f.event)) out.append(python_json_locals(f.locals));
    out.append(tok::action_sep);
    out.append(f.source);
    if (!has_locals(f.event)) out.append(tok::arg_sep).append(python_json_string(f.value));
    out.append(tok::frame_sep);
  }
  if (trace.complete) out.append(tok::end_of_text);
  return out;
}

bool contains_trace_token(std::string_view text) {
  if (text.find("<|") == std::string_view::npos) return false;
  for (std::string_view t : {tok::begin_of_text, tok::end_of_text, tok::context_start, tok::frame_sep, tok::action_sep,
                             tok::return_sep, tok::call_sep, tok::line_sep, tok::exception_sep, tok::arg_sep})
    if (text.find(t) != std::string_view::npos) return true;
  return false;
}

std::optional<Trace> parse_trace(std::string_view text, std::string* error) {
  auto fail = [&](std::string why) -> std::optional<Trace> {
    if (error) *error = std::move(why);
    return std::nullopt;
  };
  std::string_view head = text;
  if (!head.starts_with(tok::begin_of_text)) return fail("does not start with <|begin_of_text|>");
  head = after(head, tok::begin_of_text);
  if (!head.starts_with(tok::context_start)) return fail("no <|trace_context_start|> after <|begin_of_text|>");
  head = after(head, tok::context_start);
  size_t context_end = head.find(tok::frame_sep);
  if (context_end == std::string_view::npos) return fail("the context is not closed by <|frame_sep|>");
  Trace trace;
  trace.context = std::string(head.substr(0, context_end));
  head = head.substr(context_end + tok::frame_sep.size());

  // The program's lines, the marker taken off, to number the frames.
  std::vector<std::string_view> lines;
  for (size_t start = 0; start < trace.context.size();) {
    size_t end = trace.context.find('\n', start);
    size_t stop = end == std::string::npos ? trace.context.size() : end + 1;
    lines.push_back(std::string_view(trace.context).substr(start, stop - start));
    start = stop;
  }
  auto line_of = [&](std::string_view source) {
    for (size_t i = 0; i < lines.size(); ++i) {
      std::string_view l = lines[i];
      if (l == source) return static_cast<int>(i + 1);
      if (l.size() == source.size() + kStartOfTraceMarker.size() && source.ends_with('\n') &&
          l.substr(0, source.size() - 1) == source.substr(0, source.size() - 1) &&
          l.substr(source.size() - 1, kStartOfTraceMarker.size()) == kStartOfTraceMarker)
        return static_cast<int>(i + 1);
    }
    return 0;
  };
  auto take_until = [&](std::string_view& rest, std::string_view token, std::string_view* piece) {
    size_t at = rest.find(token);
    if (at == std::string_view::npos) return false;
    *piece = rest.substr(0, at);
    rest = rest.substr(at + token.size());
    return true;
  };

  for (size_t n = 1;; ++n) {
    std::string where = "frame " + std::to_string(n) + ": ";
    if (head.empty()) return trace;  // cut: no <|end_of_text|>
    if (head.starts_with(tok::end_of_text)) {
      if (head.size() != tok::end_of_text.size()) return fail("text after <|end_of_text|>");
      trace.complete = true;
      return trace;
    }
    TraceFrame f;
    bool known = false;
    for (TraceEvent e : {TraceEvent::call, TraceEvent::line, TraceEvent::return_, TraceEvent::exception})
      if (head.starts_with(event_token(e))) {
        f.event = e;
        head = after(head, event_token(e));
        known = true;
        break;
      }
    if (!known) return fail(where + "does not start with an event token");
    std::string_view locals_text, source, value_text;
    if (!take_until(head, tok::action_sep, &locals_text)) return fail(where + "no <|action_sep|>");
    if (has_locals(f.event)) {
      nlohmann::ordered_json j = nlohmann::ordered_json::parse(locals_text, nullptr, false);
      if (j.is_discarded() || !j.is_object()) return fail(where + "LOCALS is not a JSON object");
      for (auto& [name, value] : j.items()) {
        if (!value.is_string()) return fail(where + "the value of '" + name + "' is not a JSON string");
        f.locals.emplace_back(name, value.get<std::string>());
      }
      if (!take_until(head, tok::frame_sep, &source)) return fail(where + "not closed by <|frame_sep|>");
    } else {
      if (!locals_text.empty()) return fail(where + "a return or exception frame with LOCALS");
      if (!take_until(head, tok::arg_sep, &source)) return fail(where + "no <|arg_sep|> before the value");
      if (!take_until(head, tok::frame_sep, &value_text)) return fail(where + "not closed by <|frame_sep|>");
      nlohmann::json j = nlohmann::json::parse(value_text, nullptr, false);
      if (j.is_discarded() || !j.is_string()) return fail(where + "VALUE is not a JSON string");
      f.value = j.get<std::string>();
    }
    f.source = std::string(source);
    f.line = line_of(source);
    trace.frames.push_back(std::move(f));
  }
}

std::optional<std::vector<TraceLocals>> resolve_trace_locals(const Trace& trace, std::string* error) {
  std::vector<TraceLocals> out;
  out.reserve(trace.frames.size());
  const auto& frames = trace.frames;
  for (size_t i = 0; i < frames.size(); ++i) {
    TraceLocals resolved = frames[i].locals;
    for (auto& [name, value] : resolved) {
      if (value != "..") continue;
      bool found = false;
      for (size_t j = i; j-- > 0;) {
        const TraceFrame& p = frames[j];
        for (const auto& [n, v] : p.locals)
          if (n == name && v != "..") {
            value = v;
            found = true;
            break;
          }
        if (found || p.event == TraceEvent::call || p.event == TraceEvent::return_) break;
      }
      if (!found) {
        if (error) *error = "frame " + std::to_string(i + 1) + ": '" + name + "' is \"..\" with no earlier value to resolve to";
        return std::nullopt;
      }
    }
    out.push_back(std::move(resolved));
  }
  return out;
}

}  // namespace swebox::traj
