// CWM's Python execution traces (docs/traces.md): the frames of one traced call, their rendering
// to the token text CWM was mid-trained on, and a parser that reads that text back into frames.
// The tracer that records them is trajectories/tracer/swebox_tracer.py, embedded in the binary
// (python_tracer_source()); the `swebox trace` job (runner/trace_job.h) runs it in the sandbox.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace swebox::traj {

enum class TraceEvent { call, line, return_, exception };
const char* to_string(TraceEvent e);                          // "call", "line", "return", "exception"
std::optional<TraceEvent> trace_event_named(std::string_view name);

// Variable name -> its repr (plain text, not JSON), in the frame's own order; ".." = unchanged.
using TraceLocals = std::vector<std::pair<std::string, std::string>>;

struct TraceFrame {
  TraceEvent event = TraceEvent::line;
  int line = 0;             // 1-based line of the program; 0 when not known
  std::string source;       // the line as written, indentation and "\n" included
  TraceLocals locals;       // call and line frames only
  std::string value;        // return and exception frames only: the repr
};
// Same event, source, locals and value (line numbers are not in the text, so not compared).
bool same_frame(const TraceFrame& a, const TraceFrame& b);

struct Trace {
  std::string context;      // the program with the entry's def line marked (mark_trace_entry)
  std::vector<TraceFrame> frames;
  bool complete = false;    // the entry's scope was left: the text ends with <|end_of_text|>
};

// CWM's special tokens, as text (their ids: docs/traces.md).
namespace trace_token {
inline constexpr std::string_view begin_of_text = "<|begin_of_text|>";
inline constexpr std::string_view end_of_text = "<|end_of_text|>";
inline constexpr std::string_view context_start = "<|trace_context_start|>";
inline constexpr std::string_view frame_sep = "<|frame_sep|>";
inline constexpr std::string_view action_sep = "<|action_sep|>";
inline constexpr std::string_view return_sep = "<|return_sep|>";
inline constexpr std::string_view call_sep = "<|call_sep|>";
inline constexpr std::string_view line_sep = "<|line_sep|>";
inline constexpr std::string_view exception_sep = "<|exception_sep|>";
inline constexpr std::string_view arg_sep = "<|arg_sep|>";
}  // namespace trace_token
inline constexpr std::string_view kStartOfTraceMarker = "  # << START_OF_TRACE";

// Python's json.dumps of a str (ensure_ascii: \" \\ \n \r \t \b \f, every other code point outside
// ' '..'~' as \uXXXX in lower-case hex, DEL included, surrogate pairs above U+FFFF); invalid UTF-8
// is read as U+FFFD.
std::string python_json_string(std::string_view utf8);
// Python's json.dumps of a dict of str: {"a": "1", "b": ".."}.
std::string python_json_locals(const TraceLocals& locals);

// The program with "  # << START_OF_TRACE" at the end of line `entry_line` (1-based).
std::string mark_trace_entry(std::string_view program, int entry_line);

// <|begin_of_text|><|trace_context_start|>CONTEXT<|frame_sep|> then each frame, then
// <|end_of_text|> when complete.
std::string render_trace(const Trace& trace);
// The prompt alone: what a model is given to predict the frames.
std::string render_trace_prompt(std::string_view context);

// The text of render_trace back into a Trace; frames' line numbers are looked up in the context
// (the first line with that text). nullopt with *error ("frame 12: ...") when the text is not a
// trace.
std::optional<Trace> parse_trace(std::string_view text, std::string* error);

// True when `text` holds one of the token strings above: a program or repr with such text renders
// to a string that cannot be parsed back unambiguously (token ids would be; text cannot).
bool contains_trace_token(std::string_view text);

// Every frame's locals with each ".." replaced as CWM's cwmdbg.py resolves it: the value of the
// nearest earlier frame that gives one, the walk stopping after a call or return frame. nullopt
// with *error ("frame 7: 'x' ...") when one does not resolve.
std::optional<std::vector<TraceLocals>> resolve_trace_locals(const Trace& trace, std::string* error);

// The tracer's Python source (trajectories/tracer/swebox_tracer.py, embedded at build time).
std::string_view python_tracer_source();

}  // namespace swebox::traj
