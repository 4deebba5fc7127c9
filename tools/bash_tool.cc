// bash: commands run in the sandbox's persistent session; stdout and stderr merged, no exit code
// shown. A session that timed out, printed too much or ended is replaced by a fresh one, and the
// agent is told so with a fixed notice (CWM's bash_feedback_default).
#include "tools/builtin_tools.h"

#include <cctype>

namespace swebox::tools {

std::string drop_invalid_utf8(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    unsigned char c = s[i];
    size_t len = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xe ? 3 : (c >> 3) == 0x1e ? 4 : 0;
    bool valid = len > 0 && i + len <= s.size();
    for (size_t k = 1; valid && k < len; ++k) valid = (static_cast<unsigned char>(s[i + k]) >> 6) == 0x2;
    if (valid && len > 1) {  // reject overlong forms, surrogates and code points past U+10FFFF
      unsigned c1 = static_cast<unsigned char>(s[i + 1]);
      if (len == 2) valid = c >= 0xc2;
      if (len == 3) valid = !(c == 0xe0 && c1 < 0xa0) && !(c == 0xed && c1 >= 0xa0);
      if (len == 4) valid = !(c == 0xf0 && c1 < 0x90) && !(c == 0xf4 && c1 >= 0x90) && c <= 0xf4;
    }
    if (valid) {
      out.append(s.substr(i, len));
      i += len;
    } else {
      ++i;  // the whole byte is dropped; decoding resumes at the next one
    }
  }
  return out;
}

bool is_valid_utf8(std::string_view bytes) { return drop_invalid_utf8(bytes).size() == bytes.size(); }

ToolResult tool_failure(std::string tool, std::string error_kind, std::string feedback) {
  ToolResult r;
  r.tool = std::move(tool);
  r.error_kind = std::move(error_kind);
  r.feedback = std::move(feedback);
  return r;
}

namespace {
std::string merged_output(const sandbox::ExecResult& r) { return r.out + r.err; }

// CWM's session error kinds, from how the sandbox says the command stopped.
std::string error_kind_of(const sandbox::ExecResult& r, size_t output_limit) {
  using sandbox::StopReason;
  if (r.reason == StopReason::timeout) return "timeout";
  if (r.reason == StopReason::output_limit || r.out_truncated || r.err_truncated ||
      r.out.size() + r.err.size() > output_limit)
    return "too_long";
  if (r.reason == StopReason::error) {
    std::string d = r.detail;
    for (auto& c : d) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return d.find("broken pipe") != std::string::npos || d.find("epipe") != std::string::npos ? "broken_pipe" : "other";
  }
  if (r.session_restarted) return "exit";  // the session itself ended (e.g. `exit`, or it was killed)
  return "";
}
}  // namespace

ToolResult bash_result(const sandbox::ExecResult& r, const Templates& templates, size_t output_limit,
                       bool keep_final_newline) {
  ToolResult result;
  result.tool = "bash";
  result.raw_output = merged_output(r);
  result.wall_s = r.wall_s;
  result.detail = r.detail;
  result.error_kind = error_kind_of(r, output_limit);
  if (result.error_kind.empty()) {
    result.ok = true;
    result.exit_code = r.status();
    std::string out = drop_invalid_utf8(result.raw_output);
    if (!keep_final_newline && !out.empty() && out.back() == '\n') out.pop_back();
    result.feedback = std::move(out);
    return result;
  }
  ToolResult notice = bash_failure(result.error_kind, templates);
  result.feedback = std::move(notice.feedback);
  return result;
}

ToolResult bash_failure(std::string error_kind, const Templates& templates) {
  const char* cause = error_kind == "timeout" ? "tools/bash_timeout" : error_kind == "too_long" ? "tools/bash_too_long" : "tools/bash_ended";
  return tool_failure("bash", std::move(error_kind), templates.render(cause) + " " + templates.render("tools/bash_fresh_session"));
}

bool bash_needs_fresh_session(const sandbox::ExecResult& r, const ToolResult& result) {
  return !result.ok && !r.session_restarted;
}

}  // namespace swebox::tools
