// The five tools of CWM's protocol (docs/formats.md §1.2), one .cc file each. Each turns a call's BODY
// plus what the sandbox returned into a ToolResult; the Toolset runs them (blocking or async).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "sandbox/sandbox.h"
#include "tools/template.h"
#include "tools/tool_result.h"

namespace swebox::tools {

// A failed call's result: which tool, why (ToolResult::error_kind), what the agent is told.
ToolResult tool_failure(std::string tool, std::string error_kind, std::string feedback);

// ---- bash (bash_tool.cc): the persistent session.
// Output beyond this many bytes (CWM: 480 KiB) ends the session with error kind too_long.
inline constexpr size_t kBashOutputLimit = 480 * 1024;
// Maps what Sandbox::run returned to the tool's result: on success the merged output minus one
// trailing newline (kept with keep_final_newline); on failure a fixed notice (partial output dropped, kept in raw_output).
ToolResult bash_result(const sandbox::ExecResult& run, const Templates& templates,
                       size_t output_limit = kBashOutputLimit, bool keep_final_newline = false);
// True when the result says the session must be replaced but the sandbox has not done so
// (too much output): the caller then ends the session (see kEndSessionCommand).
// The notice for a failed session (error kind timeout, too_long, or anything else: ended).
ToolResult bash_failure(std::string error_kind, const Templates& templates);
bool bash_needs_fresh_session(const sandbox::ExecResult& run, const ToolResult& result);
inline constexpr const char* kEndSessionCommand = "exit 0";

// Drops bytes that are not valid UTF-8, as CWM's decode(errors="ignore") does.
std::string drop_invalid_utf8(std::string_view bytes);

// ---- edit (edit_tool.cc)
struct EditBlock {
  std::string path, search, replace;
};
// Every SEARCH/REPLACE block of an edit BODY, with the semantics of CWM's
// `(.*)\n<<<<<<< SEARCH\n([\s\S]*?)\n=======\n([\s\S]*?)\n>>>>>>> REPLACE` findall.
std::vector<EditBlock> find_edit_blocks(std::string_view body);
// The BODY that find_edit_blocks reads back as exactly this block.
std::string edit_body(const EditBlock& block);
// Applies an edit through the sandbox's file API; cwd = the session's directory ("" = workspace).
// universal_newlines: read the file as CWM's plugin does (Python text mode: "\r\n" and "\r" become
// "\n", so the whole file is written back with "\n" line ends); false keeps the bytes as they are.
// require_utf8: a file that is not valid UTF-8 is not edited (tools/edit_not_utf8), as CWM's plugin
// fails decoding it.
ToolResult edit_file(sandbox::Sandbox& sandbox, const std::string& cwd, std::string_view body,
                     const Templates& templates, bool universal_newlines = true, bool require_utf8 = false);
// True when the bytes are valid UTF-8 (what Python's strict UTF-8 decoding accepts).
bool is_valid_utf8(std::string_view bytes);
// CPython's UnicodeDecodeError text for the first invalid sequence ("can't decode byte 0xe9 in
// position 3: invalid continuation byte"); "" for valid UTF-8. tools/edit_not_utf8's {decode_error}.
std::string cpython_utf8_decode_error(std::string_view data);
// "\r\n" and lone "\r" to "\n", as Python's universal-newlines reading does.
std::string universal_newlines(std::string_view text);
// The success snippet: lines max(1,L-8)…L+8+extra of content, each "%6d\t%s".
std::string numbered_snippet(std::string_view content, long first_line, long last_line);

// ---- create (create_tool.cc): line 1 is the path, the rest is the content.
// normalised_parent: the parent checked and named is that of the lexically normalised absolute path.
ToolResult create_file(sandbox::Sandbox& sandbox, const std::string& cwd, std::string_view body,
                       const Templates& templates, bool normalised_parent = false);

// ---- submit (submit_tool.cc): BODY is a path to a diff.
ToolResult submit_file(sandbox::Sandbox& sandbox, const std::string& cwd, std::string_view body,
                       const Templates& templates, bool keep_final_newline = false);
// CWM's way (ToolsetConfig::submit_through_shell): the session runs `cat PATH`, so the shell expands
// the path; a failed session or a non-zero status is "unreadable". session_failed: the session
// timed out, printed too much or ended.
std::string submit_cat_command(std::string_view body);
ToolResult submit_result(const sandbox::ExecResult& cat, bool session_failed, std::string_view body,
                         const Templates& templates, bool keep_final_newline = false);

// ---- python (python_tool.cc): runs BODY with python3 in the sandbox, beside the session.
inline constexpr double kPythonTimeout = 10;
sandbox::ExecRequest python_request(std::string_view source, double timeout_s = kPythonTimeout);
ToolResult python_result(const sandbox::ExecResult& exec, const Templates& templates);

}  // namespace swebox::tools
