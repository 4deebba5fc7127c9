// Observation rendering (docs/formats.md §1.3) and truncation (§1.4), byte for byte.
#include <doctest/doctest.h>

#include "tools/observation.h"

using namespace swebox::tools;

namespace {
// A counter that makes truncation arithmetic exact: one token per byte.
size_t bytes(std::string_view s) { return s.size(); }
bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}
}  // namespace

TEST_CASE("the default token estimate is bytes over four, rounded up") {
  CHECK(estimate_tokens("") == 0);
  CHECK(estimate_tokens("abc") == 1);
  CHECK(estimate_tokens("abcd") == 1);
  CHECK(estimate_tokens("abcde") == 2);
}

TEST_CASE("a tool observation is the exact CWM token stream") {
  ObservationConfig config;  // context 131072, 128 turns, estimate counter
  Observation o = tool_observation("bash", "hello\nworld", 3, 5000, /*action_ended=*/true, config);
  // The estimate is the message with the budget block's placeholders unfilled.
  const std::string estimate_text =
      "<|start_header_id|>tool: bash<|end_header_id|>\n\n<output>\nhello\nworld\n</output>\n\n<budget>\n"
      "* Remaining turns: {remaining_turns}\n* Remaining tokens: {remaining_tokens}\n</budget><|eot_id|>";
  const size_t estimate = (estimate_text.size() + 3) / 4;
  CHECK(o.estimated_tokens == estimate);
  CHECK(o.remaining_turns == 125);
  CHECK(o.remaining_tokens == 131072 - 5000 - static_cast<long long>(estimate));
  const std::string expected = "<|start_header_id|>tool: bash<|end_header_id|>\n\n<output>\nhello\nworld\n</output>\n\n"
                               "<budget>\n* Remaining turns: 125\n* Remaining tokens: " +
                               std::to_string(o.remaining_tokens) +
                               "\n</budget><|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n";
  CHECK(o.text == expected);
  CHECK_FALSE(o.truncated);
  CHECK(o.message.role == "tool");
  CHECK(o.message.name == "bash");
  CHECK(o.message.content == "<output>\nhello\nworld\n</output>\n\n<budget>\n* Remaining turns: 125\n* Remaining tokens: " +
                                 std::to_string(o.remaining_tokens) + "\n</budget>");
}

TEST_CASE("an end-of-turn token is inserted first when the action lacks one") {
  ObservationConfig config;
  Observation o = tool_observation("edit", "done", 1, 10, /*action_ended=*/false, config);
  CHECK(o.text.rfind("<|eot_id|><|start_header_id|>tool: edit<|end_header_id|>\n\n<output>\ndone\n</output>", 0) == 0);
}

TEST_CASE("think mode appends the thinking start after the assistant header") {
  ObservationConfig config;
  config.think = ThinkMode::tag;
  std::string tag = tool_observation("bash", "x", 1, 0, true, config).text;
  CHECK(ends_with(tag, "</budget><|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n<think>\n"));
  config.think = ThinkMode::token;
  std::string token = tool_observation("bash", "x", 1, 0, true, config).text;
  CHECK(ends_with(token, "</budget><|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n<|reasoning_thinking_start|>"));
}

TEST_CASE("remaining tokens use the estimate capped at max_user_turn_len and may go negative") {
  ObservationConfig config;
  config.count_tokens = bytes;
  config.max_user_turn_len = 100;
  config.context_size = 1000;
  Observation o = tool_observation("bash", std::string(500, 'a'), 1, 950, true, config);
  CHECK(o.estimated_tokens == 100);
  CHECK(o.remaining_tokens == 1000 - 950 - 100);
}

TEST_CASE("a long tool message keeps its head, ends with [...] and fits max_user_turn_len") {
  ObservationConfig config;
  config.count_tokens = bytes;
  config.max_user_turn_len = 200;
  std::string feedback;
  for (int i = 0; i < 100; ++i) feedback += "line " + std::to_string(i) + "\n";
  Observation o = tool_observation("bash", feedback, 1, 0, true, config);
  CHECK(o.truncated);
  const std::string header = "<|start_header_id|>tool: bash<|end_header_id|>\n\n";
  CHECK(header.size() + o.body.size() + std::string("<|eot_id|>").size() == 200);  // exactly the limit
  CHECK(o.body.substr(o.body.size() - 5) == "[...]");
  CHECK(o.body.rfind("<output>\nline 0\nline 1\n", 0) == 0);
  CHECK(o.body.find("<budget>") == std::string::npos);  // the budget block is lost, as in CWM
  CHECK(o.text == header + o.body + "<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n");
}

TEST_CASE("truncation never cuts a UTF-8 character") {
  std::string body;
  for (int i = 0; i < 50; ++i) body += "\xc3\xa9";  // é, 2 bytes each
  bool truncated = false;
  for (size_t limit = 40; limit < 60; ++limit) {
    std::string head = fit_message_body("user", body, limit + 40, KeepSide::head, bytes, &truncated);
    CHECK(truncated);
    CHECK((head.size() - 5) % 2 == 0);
    std::string tail = fit_message_body("user", body, limit + 40, KeepSide::tail, bytes, &truncated);
    CHECK((tail.size() - 5) % 2 == 0);
    CHECK(tail.rfind("[...]\xc3\xa9", 0) == 0);
  }
}

TEST_CASE("a parse error becomes a stripped user message") {
  ObservationConfig config;
  Observation o = error_observation({"FormatError", "No tool calls found\n"}, false, config);
  CHECK(o.text ==
        "<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nFormatError: No tool calls found<|eot_id|>"
        "<|start_header_id|>assistant<|end_header_id|>\n\n");
  CHECK(o.message.role == "user");
  CHECK(o.message.content == "FormatError: No tool calls found");
}

TEST_CASE("a long parse error message keeps its head within max_user_turn_len") {
  ObservationConfig config;
  config.count_tokens = bytes;
  config.max_user_turn_len = 80;
  Observation o = error_observation({"FormatError", std::string(300, 'z')}, true, config);
  CHECK(o.truncated);
  CHECK(o.body.rfind("FormatError: zzz", 0) == 0);
  CHECK(o.body.size() + std::string("<|start_header_id|>user<|end_header_id|>\n\n<|eot_id|>").size() == 80);
}

TEST_CASE("the first prompt keeps its tail within max_prompt_len, [...] prepended") {
  ObservationConfig config;
  config.count_tokens = bytes;
  config.max_prompt_len = 100;
  std::string user = "HEAD " + std::string(300, 'm') + " TAIL";
  Observation o = initial_prompt("  You are a helpful AI assistant.\n", user, config);
  CHECK(o.truncated);
  CHECK(o.body.rfind("[...]", 0) == 0);
  CHECK(o.body.substr(o.body.size() - 5) == " TAIL");
  CHECK(o.body.size() + std::string("<|start_header_id|>user<|end_header_id|>\n\n<|eot_id|>").size() == 100);
  REQUIRE(o.messages.size() == 2);
  CHECK(o.messages[0].role == "system");
  CHECK(o.messages[0].content == "You are a helpful AI assistant.");
  CHECK(o.messages[1].content == o.body);
  CHECK(o.text == "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nYou are a helpful AI assistant.<|eot_id|>"
                  "<|start_header_id|>user<|end_header_id|>\n\n" + o.body +
                  "<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n");
}

TEST_CASE("a short first prompt is left whole") {
  ObservationConfig config;
  Observation o = initial_prompt("sys", "Fix the bug.", config);
  CHECK_FALSE(o.truncated);
  CHECK(o.body == "Fix the bug.");
}
