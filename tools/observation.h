// The observation after each step, in CWM's token-stream form (docs/formats.md §1.3) and in chat form,
// and the length limits on messages (§1.4).
//
// Messages are <|start_header_id|>ROLE<|end_header_id|>\n\nBODY<|eot_id|>. After a tool call:
//   [<|eot_id|> if the action lacks one]
//   <|start_header_id|>tool: NAME<|end_header_id|>\n\n<output>\n{feedback}\n</output>\n\n<budget>\n
//   * Remaining turns: {T}\n* Remaining tokens: {K}\n</budget><|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n
//   [<think>\n or <|reasoning_thinking_start|> in think mode]
// After a parse error (non-strict mode) the message is a user message "<ErrorClass>: <msg>".
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "tools/action_parser.h"
#include "tools/template.h"

namespace swebox::tools {

// Counts the tokens of a text. Special-token markers in the text count as the tokenizer counts them.
using TokenCounter = std::function<size_t(std::string_view)>;
// The estimate used when no tokenizer is present: ceil(bytes / 4), markers included as text.
// It over-counts special tokens (about 5 per marker) and under-counts dense non-ASCII text.
size_t estimate_tokens(std::string_view text);

inline constexpr std::string_view kBeginOfText = "<|begin_of_text|>";
inline constexpr std::string_view kStartHeader = "<|start_header_id|>";
inline constexpr std::string_view kEndHeader = "<|end_header_id|>";
inline constexpr std::string_view kEndOfTurn = "<|eot_id|>";
inline constexpr std::string_view kTruncationMark = "[...]";

// "<|start_header_id|>ROLE<|end_header_id|>\n\n"
std::string message_header(std::string_view role);
// header + body + <|eot_id|>
std::string message_text(std::string_view role, std::string_view body);
// The generation prefix that ends every observation: the assistant header, then in think mode
// "<think>\n" (tag) or "<|reasoning_thinking_start|>" (token).
std::string assistant_prefix(ThinkMode think);

struct ObservationConfig {
  size_t context_size = 131072;
  long max_turns = 128;
  size_t max_prompt_len = 8192;
  size_t max_user_turn_len = 32768;
  ThinkMode think = ThinkMode::off;
  TokenCounter count_tokens = estimate_tokens;
};

struct ChatMessage {
  std::string role;     // system | user | assistant | tool
  std::string content;
  std::string name;     // the tool's name for role "tool"
};

struct Observation {
  std::string text;          // the whole token-stream text that follows the action
  std::string body;          // the message body, after truncation
  ChatMessage message;       // the same message in chat form, for endpoint policies
  std::vector<ChatMessage> messages;  // every message of `text` in chat form (system + user for the first prompt)
  bool truncated = false;    // the body was cut to max_user_turn_len (max_prompt_len for the first prompt)
  long remaining_turns = 0;        // T (tool observations)
  long long remaining_tokens = 0;  // K (tool observations)
  size_t estimated_tokens = 0;     // the message size estimate K was computed with
};

// Which end of an over-long body is kept.
enum class KeepSide { head, tail };
// Cuts `body` so that the message (header + body + end token) fits max_tokens, as CWM's
// maybe_truncate_message: head kept and "[...]" appended, or tail kept and "[...]" prepended.
// Cuts fall on UTF-8 character boundaries. Returns the body unchanged when it fits.
std::string fit_message_body(std::string_view role, std::string_view body, size_t max_tokens, KeepSide keep,
                             const TokenCounter& count, bool* truncated = nullptr);

// The observation after a tool call. step_id counts steps taken, this one included;
// tokens_so_far counts the prompt, every action (this one included) and earlier observations;
// action_ended says whether the action's tokens end with <|eot_id|>.
Observation tool_observation(std::string_view tool, std::string_view feedback, long step_id, size_t tokens_so_far,
                             bool action_ended, const ObservationConfig& config,
                             const Templates& templates = default_templates());

// The observation after a parse error in non-strict mode: the user message "<ErrorClass>: <msg>".
Observation error_observation(const ParseError& error, bool action_ended, const ObservationConfig& config);

// The first prompt: <|begin_of_text|>, the system message, the user message (tail kept within
// max_prompt_len) and the assistant prefix. `message` holds the user message; `text` all of it.
Observation initial_prompt(std::string_view system, std::string_view user, const ObservationConfig& config);

}  // namespace swebox::tools
