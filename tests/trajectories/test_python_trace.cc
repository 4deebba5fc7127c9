// CWM's trace text (trajectories/python_trace.h): Python's json.dumps reproduced (checked against
// the real python3), rendering, parsing back, and '..' resolution as cwmdbg.py walks it.
#include <doctest/doctest.h>

#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "trajectories/python_trace.h"

using namespace swebox::traj;

namespace {

std::string hex(const std::string& s) {
  static const char* d = "0123456789abcdef";
  std::string out;
  for (unsigned char c : s) out += {d[c >> 4], d[c & 15]};
  return out;
}

// json.dumps of each string by python3 itself (the strings travel as hex of their UTF-8).
std::vector<std::string> python_json_dumps(const std::vector<std::string>& strings) {
  std::string in = "/tmp/swebox-json-test-" + std::to_string(getpid());
  {
    std::ofstream o(in);
    for (const auto& s : strings) o << hex(s) << "\n";
  }
  std::string cmd = "python3 -c 'import json,sys\nfor l in open(sys.argv[1]): print(json.dumps(bytes.fromhex(l.strip()).decode()))' " + in;
  FILE* p = popen(cmd.c_str(), "r");
  std::vector<std::string> out;
  char buf[1 << 16];
  while (fgets(buf, sizeof buf, p)) {
    std::string line(buf);
    if (!line.empty() && line.back() == '\n') line.pop_back();
    out.push_back(line);
  }
  pclose(p);
  std::remove(in.c_str());
  return out;
}

TraceFrame frame(TraceEvent e, std::string source, TraceLocals locals = {}, std::string value = "") {
  return {e, 0, std::move(source), std::move(locals), std::move(value)};
}

}  // namespace

TEST_CASE("python_json_string writes what Python's json.dumps writes") {
  std::vector<std::string> samples = {"", "abc", "'a'", "\"quoted\"", "back\\slash", "tab\there\nnew\rcr",
                                      std::string("nul\0byte", 8), "\x01\x1f\x7f", "\b\f", "é", "héllo wörld ✓",
                                      "😀 astral 𝄞", "\u2028\u2029", "<|frame_sep|>", "..", "\xef\xbf\xbf"};
  std::vector<std::string> want = python_json_dumps(samples);
  REQUIRE(want.size() == samples.size());
  for (size_t i = 0; i < samples.size(); ++i) CHECK(python_json_string(samples[i]) == want[i]);
  // Invalid UTF-8 reads as U+FFFD, one per bad byte (the tracer sends valid UTF-8 only).
  CHECK(python_json_string("a\xff" "b") == "\"a\\ufffdb\"");
  CHECK(python_json_string("\xed\xa0\x80") == "\"\\ufffd\\ufffd\\ufffd\"");
  CHECK(python_json_locals({{"x", "1"}, {"s", ".."}}) == R"({"x": "1", "s": ".."})");
  CHECK(python_json_locals({}) == "{}");
}

TEST_CASE("a trace renders in CWM's layout and parses back to the same frames") {
  Trace t;
  t.context = mark_trace_entry("def g(a):\n    return a\ndef f(x):\n    y = g(x)\n    return y\n", 3);
  CHECK(t.context == "def g(a):\n    return a\ndef f(x):  # << START_OF_TRACE\n    y = g(x)\n    return y\n");
  t.frames = {frame(TraceEvent::call, "def f(x):\n", {{"x", "1"}}),
              frame(TraceEvent::line, "    y = g(x)\n", {{"x", ".."}}),
              frame(TraceEvent::call, "def g(a):\n", {{"a", "1"}}),
              frame(TraceEvent::line, "    return a\n", {{"a", ".."}}),
              frame(TraceEvent::return_, "    return a\n", {}, "1"),
              frame(TraceEvent::line, "    return y\n", {{"x", "1"}, {"y", "1"}}),
              frame(TraceEvent::exception, "    return y\n", {}, "ValueError('é')"),
              frame(TraceEvent::return_, "    return y\n", {}, "None")};
  t.complete = true;
  std::string text = render_trace(t);
  CHECK(text.starts_with("<|begin_of_text|><|trace_context_start|>def g(a):\n"));
  CHECK(text.find("<|frame_sep|><|call_sep|>{\"x\": \"1\"}<|action_sep|>def f(x):\n<|frame_sep|>") != std::string::npos);
  CHECK(text.find("<|return_sep|><|action_sep|>    return a\n<|arg_sep|>\"1\"<|frame_sep|>") != std::string::npos);
  CHECK(text.find("<|exception_sep|><|action_sep|>    return y\n<|arg_sep|>\"ValueError('\\u00e9')\"<|frame_sep|>") != std::string::npos);
  CHECK(text.ends_with("<|arg_sep|>\"None\"<|frame_sep|><|end_of_text|>"));
  std::string why;
  auto back = parse_trace(text, &why);
  REQUIRE_MESSAGE(back.has_value(), why);
  CHECK(back->complete);
  CHECK(back->context == t.context);
  REQUIRE(back->frames.size() == t.frames.size());
  for (size_t i = 0; i < t.frames.size(); ++i) CHECK(same_frame(back->frames[i], t.frames[i]));
  CHECK(back->frames[0].line == 3);   // the marked def line is found without its marker
  CHECK(back->frames[3].line == 2);
  CHECK(render_trace(*back) == text);

  t.complete = false;   // a capped trace: no <|end_of_text|>, and read back as not complete
  auto cut = parse_trace(render_trace(t), &why);
  REQUIRE(cut.has_value());
  CHECK(!cut->complete);
}

TEST_CASE("parse_trace names what is wrong with a text that is not a trace") {
  std::string why;
  CHECK(!parse_trace("def f(): pass\n", &why));
  CHECK(why.find("<|begin_of_text|>") != std::string::npos);
  std::string head = "<|begin_of_text|><|trace_context_start|>def f():\n<|frame_sep|>";
  CHECK(!parse_trace(head + "<|call_sep|>{\"x\": 1}<|action_sep|>def f():\n<|frame_sep|>", &why));
  CHECK(why == "frame 1: the value of 'x' is not a JSON string");
  CHECK(!parse_trace(head + "<|line_sep|>not json<|action_sep|>x\n<|frame_sep|>", &why));
  CHECK(why == "frame 1: LOCALS is not a JSON object");
  CHECK(!parse_trace(head + "<|return_sep|><|action_sep|>x\n<|frame_sep|>", &why));
  CHECK(why == "frame 1: no <|arg_sep|> before the value");
  CHECK(!parse_trace(head + "<|end_of_text|>more", &why));
  CHECK(why == "text after <|end_of_text|>");
  CHECK(!parse_trace(head + "garbage", &why));
  CHECK(why == "frame 1: does not start with an event token");
}

TEST_CASE("'..' resolves as cwmdbg walks: back to the last concrete value, stopping after a call or return frame") {
  Trace t;
  t.frames = {frame(TraceEvent::call, "a\n", {{"x", "1"}}),
              frame(TraceEvent::line, "b\n", {{"x", ".."}, {"y", "2"}}),
              frame(TraceEvent::exception, "b\n", {}, "E()"),
              frame(TraceEvent::line, "c\n", {{"x", ".."}, {"y", ".."}})};
  std::string why;
  auto r = resolve_trace_locals(t, &why);
  REQUIRE(r.has_value());
  CHECK((*r)[3] == TraceLocals{{"x", "1"}, {"y", "2"}});
  // After a return frame the walk stops: a '..' there has nothing to resolve to.
  t.frames.push_back(frame(TraceEvent::return_, "c\n", {}, "None"));
  t.frames.push_back(frame(TraceEvent::line, "d\n", {{"x", ".."}}));
  CHECK(!resolve_trace_locals(t, &why));
  CHECK(why == "frame 6: 'x' is \"..\" with no earlier value to resolve to");
  CHECK(contains_trace_token("s = '<|arg_sep|>'"));
  CHECK(!contains_trace_token("a <| b |> c"));
}

TEST_CASE("the embedded tracer is the shipped trajectories/tracer/swebox_tracer.py, byte for byte") {
  std::ifstream in(SWEBOX_SOURCE_DIR "/trajectories/tracer/swebox_tracer.py", std::ios::binary);
  std::string file((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  CHECK(!file.empty());
  CHECK(python_tracer_source() == file);
}
