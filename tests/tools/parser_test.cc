// The strict single-call parser (docs/formats.md §1.1).
#include <doctest/doctest.h>

#include "tools/action_parser.h"

using namespace swebox::tools;

namespace {
const ParseOptions kTools{{"bash", "edit", "create", "submit"}, ThinkMode::off};

ToolCall call_of(const ParseResult& r) {
  if (const auto* e = std::get_if<ParseError>(&r)) FAIL("unexpected parse error: " << e->text());
  return std::get<ToolCall>(r);
}
ParseError error_of(const ParseResult& r) {
  if (std::holds_alternative<ToolCall>(r)) FAIL("expected a parse error, got a call to " << std::get<ToolCall>(r).name);
  return std::get<ParseError>(r);
}
}  // namespace

TEST_CASE("a single call block is parsed into name and body") {
  ToolCall c = call_of(parse_action("Let me look.\n<tool: bash>\nls -la\n</tool>", kTools));
  CHECK(c.name == "bash");
  CHECK(c.body == "ls -la");
}

TEST_CASE("the body is kept unstripped and may span lines") {
  ToolCall c = call_of(parse_action("<tool: bash>\n  echo a\n\necho b  \n\n</tool>\ntrailing words", kTools));
  CHECK(c.body == "  echo a\n\necho b  \n");
}

TEST_CASE("the body ends at the first newline-closing-tag") {
  // "</tool>" not preceded by a newline is body text, but it still counts as a closing tag.
  auto r = parse_action("<tool: bash>\necho '</tool>'\n</tool>", kTools);
  ParseError e = error_of(r);
  CHECK(e.error_class == "FormatError");
  CHECK(e.message.find("2 closing") != std::string::npos);
}

TEST_CASE("any single whitespace character may follow the colon") {
  CHECK(call_of(parse_action("<tool:\tbash>\nls\n</tool>", kTools)).name == "bash");
  CHECK(call_of(parse_action("<tool:\nbash>\nls\n</tool>", kTools)).name == "bash");
  CHECK(call_of(parse_action("<tool:\xc2\xa0" "bash>\nls\n</tool>", kTools)).name == "bash");  // U+00A0 is \s in Python
}

TEST_CASE("no whitespace, two whitespace characters or a bad name do not match") {
  for (const char* text : {"<tool:bash>\nls\n</tool>", "<tool:  bash>\nls\n</tool>", "<tool: ba-sh>\nls\n</tool>",
                           "<tool: bash >\nls\n</tool>", "<tool: bash>ls\n</tool>", "<tool: >\nls\n</tool>"}) {
    ParseError e = error_of(parse_action(text, kTools));
    CHECK(e.error_class == "FormatError");
    CHECK_MESSAGE(e.message.find("1 opening") != std::string::npos, text);  // 0 matches vs 1 tag: mismatch comes first
  }
}

TEST_CASE("more than one call is the first error checked") {
  ParseError e = error_of(parse_action("<tool: bash>\nls\n</tool>\n<tool: nosuch>\nx\n</tool> </tool>", kTools));
  CHECK(e.error_class == "FormatError");
  CHECK(e.message.find("found 2: bash, nosuch") != std::string::npos);
}

TEST_CASE("a tag count that differs from the match count is an error before no-match") {
  ParseError e = error_of(parse_action("<tool: bash>\nls\n</tool>\n<tool: bash>", kTools));
  CHECK(e.message.find("1 well-formed") != std::string::npos);
  CHECK(e.message.find("2 opening") != std::string::npos);
  CHECK(e.message.find("1 closing") != std::string::npos);
  ParseError stray_close = error_of(parse_action("no call here </tool>", kTools));
  CHECK(stray_close.message.find("0 well-formed") != std::string::npos);
}

TEST_CASE("a reply without any call is a format error") {
  ParseError e = error_of(parse_action("I am done.", kTools));
  CHECK(e.error_class == "FormatError");
  CHECK(e.message == default_templates().text("tools/parse_no_call"));
  CHECK(e.text() == "FormatError: " + e.message);
}

TEST_CASE("a blank body is a format error, checked before the tool name") {
  ParseError e = error_of(parse_action("<tool: nosuch>\n \t\n</tool>", kTools));
  CHECK(e.error_class == "FormatError");
  CHECK(e.message.find("'nosuch'") != std::string::npos);
  CHECK(error_of(parse_action("<tool: bash>\n\n</tool>", kTools)).error_class == "FormatError");
}

TEST_CASE("an unknown tool name is a NoSuchToolError naming the offered tools") {
  ParseError e = error_of(parse_action("<tool: python>\nprint(1)\n</tool>", kTools));
  CHECK(e.error_class == "NoSuchToolError");
  CHECK(e.message.find("'python'") != std::string::npos);
  CHECK(e.message.find("bash, edit, create, submit") != std::string::npos);
  CHECK(e.text().rfind("NoSuchToolError: ", 0) == 0);
}

TEST_CASE("think mode parses only the text after the single end-of-thinking marker") {
  ParseOptions tag = kTools;
  tag.think = ThinkMode::tag;
  ToolCall c = call_of(parse_action("<think>\nmaybe <tool: edit>\nx\n</tool>\n</think>\n<tool: bash>\npwd\n</tool>", tag));
  CHECK(c.name == "bash");
  CHECK(c.body == "pwd");
  ParseOptions token = kTools;
  token.think = ThinkMode::token;
  CHECK(call_of(parse_action("plan<|reasoning_thinking_end|><tool: bash>\npwd\n</tool>", token)).body == "pwd");
}

TEST_CASE("think mode needs exactly one end-of-thinking marker, checked first") {
  ParseOptions tag = kTools;
  tag.think = ThinkMode::tag;
  ParseError none = error_of(parse_action("<tool: bash>\npwd\n</tool>", tag));
  CHECK(none.error_class == "FormatError");
  CHECK(none.message.find("found 0") != std::string::npos);
  ParseError two = error_of(parse_action("a</think>b</think><tool: bash>\npwd\n</tool>", tag));
  CHECK(two.message.find("found 2") != std::string::npos);
  CHECK(two.message.find("</think>") != std::string::npos);
}

TEST_CASE("find_call_blocks follows findall: a failed start does not hide a later block") {
  auto blocks = find_call_blocks("<tool: x <tool: bash>\nls\n</tool>");
  REQUIRE(blocks.size() == 1);
  CHECK(blocks[0].name == "bash");
  CHECK(blocks[0].begin == 9);
}

TEST_CASE("python_strip strips ASCII and Unicode whitespace") {
  CHECK(python_strip(" \t\n x y \x1f\xe3\x80\x80") == "x y");
  CHECK(python_strip("\xc2\xa0") == "");
  CHECK(python_strip("abc") == "abc");
}

TEST_CASE("after a submit, a reply without a call is the final summary (strict format needs ##)") {
  const std::string summary = "## Issue Summary\nFixed it.";
  ParseResult parsed = parse_action(summary, kTools);
  CHECK(is_final_summary(summary, parsed, ThinkMode::off, /*strict_format=*/true));
  const std::string plain = "All done, thanks.";
  CHECK_FALSE(is_final_summary(plain, parse_action(plain, kTools), ThinkMode::off, true));
  CHECK(is_final_summary(plain, parse_action(plain, kTools), ThinkMode::off, false));
  // An unknown tool is also "no valid call".
  const std::string unknown = "## Summary\n<tool: nosuch>\nx\n</tool>";
  CHECK(is_final_summary(unknown, parse_action(unknown, kTools), ThinkMode::off, true));
  // A valid call is never a summary.
  const std::string call = "## Summary\n<tool: bash>\nls\n</tool>";
  CHECK_FALSE(is_final_summary(call, parse_action(call, kTools), ThinkMode::off, true));
  // Think mode: exactly one end marker, and the ## must be after it.
  ParseOptions tag = kTools;
  tag.think = ThinkMode::tag;
  const std::string thought = "## plan</think>Done.";
  CHECK_FALSE(is_final_summary(thought, parse_action(thought, tag), ThinkMode::tag, true));
  const std::string good = "plan</think>## Issue Summary";
  CHECK(is_final_summary(good, parse_action(good, tag), ThinkMode::tag, true));
  const std::string no_marker = "## Issue Summary";
  CHECK_FALSE(is_final_summary(no_marker, parse_action(no_marker, tag), ThinkMode::tag, false));
}

TEST_CASE("a decoded action is cut at its first stop token before parsing") {
  CHECK(cut_at_stop_markers("<tool: bash>\nls\n</tool><|eot_id|>") == "<tool: bash>\nls\n</tool>");
  CHECK(cut_at_stop_markers("a<|eom_id|>b<|eot_id|>") == "a");
  CHECK(cut_at_stop_markers("a<|end_of_text|>") == "a");
  CHECK(cut_at_stop_markers("no stop") == "no stop");
}
