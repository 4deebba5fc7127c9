// The strict single-call parser of CWM's tool protocol (docs/formats.md §1.1):
//
//   <tool: NAME>
//   BODY
//   </tool>
//
// A reply must hold exactly one call block. Errors are FormatError (checked in CWM's order: more
// than one call; the call count differs from the count of "<tool:" or "</tool>"; no call; a blank
// BODY) or NoSuchToolError (a name not in the offered set). In think mode the reply must hold
// exactly one end-of-thinking marker and only the text after it is parsed.
#pragma once

#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "tools/template.h"

namespace swebox::tools {

struct ToolCall {
  std::string name;
  std::string body;  // unstripped, exactly as written between the header line and "\n</tool>"
  bool operator==(const ToolCall&) const = default;
};

struct ParseError {
  std::string error_class;  // "FormatError" or "NoSuchToolError"
  std::string message;
  // The user message sent back in non-strict mode: "<ErrorClass>: <msg>".
  std::string text() const { return error_class + ": " + message; }
};

using ParseResult = std::variant<ToolCall, ParseError>;

// How the policy marks the end of its reasoning. off: no reasoning part; tag: "</think>";
// token: CWM's "<|reasoning_thinking_end|>" special token (as decoded text).
enum class ThinkMode { off, tag, token };
inline constexpr std::string_view kThinkTagStart = "<think>\n";
inline constexpr std::string_view kThinkTagEnd = "</think>";
inline constexpr std::string_view kThinkTokenStart = "<|reasoning_thinking_start|>";
inline constexpr std::string_view kThinkTokenEnd = "<|reasoning_thinking_end|>";
std::string_view think_end_marker(ThinkMode mode);  // "" for off

struct ParseOptions {
  std::vector<std::string> tools;  // the offered tool names
  ThinkMode think = ThinkMode::off;
};

// One call block as CWM's regex `<tool:\s([a-zA-Z_]+)>\n(.*?)\n</tool>` (DOTALL) finds it.
struct CallMatch {
  std::string name;
  std::string body;
  size_t begin = 0, end = 0;  // byte range of the whole block in the parsed text
};
// Every non-overlapping match, left to right (re.findall semantics).
std::vector<CallMatch> find_call_blocks(std::string_view text);

// The text after the single end-of-thinking marker (or the whole text when think is off).
// Returns a ParseError when the marker count is not exactly one.
std::variant<std::string_view, ParseError> answer_part(std::string_view action, ThinkMode think,
                                                       const Templates& templates = default_templates());

// The reply as CWM parses it: the decoded action cut at its first stop token (<|eot_id|>,
// <|eom_id|> or <|end_of_text|>), which is not part of the text.
std::string_view cut_at_stop_markers(std::string_view decoded_action);

// Parses a policy's reply (the action text without its end-of-turn token; see cut_at_stop_markers).
ParseResult parse_action(std::string_view action, const ParseOptions& options,
                         const Templates& templates = default_templates());

// docs/formats.md §1.5 rule 3: once a submit has succeeded, a reply without a valid call is the final
// answer (the episode is evaluated) when its thinking part is well-formed and, under strict format,
// its answer holds "##" (the summary template's headings). Call it only after a successful submit.
bool is_final_summary(std::string_view action, const ParseResult& parsed, ThinkMode think, bool strict_format);

// Python's str.isspace() for the character at text[pos] (ASCII, \x1c-\x1f and the Unicode
// White_Space characters, UTF-8 encoded); returns its byte length, 0 if it is not whitespace.
size_t python_space_at(std::string_view text, size_t pos);
// Python's str.strip() on UTF-8 text.
std::string_view python_strip(std::string_view text);

}  // namespace swebox::tools
