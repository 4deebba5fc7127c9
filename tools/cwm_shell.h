// CWM's bash session semantics (ToolsetConfig::shell_reads_stdin; docs/formats.md §1.2): commands are
// written to the input of one long-lived bash, each followed by CWM's exit-code and sentinel lines
// (cwm/rl/swerl/remote/session.py), and the output is read until the sentinel. So, as in CWM: a
// syntax error ends that bash (the session "terminated unexpectedly"); an unclosed quote or
// heredoc, or a command that reads its input, consumes the lines after it and runs into the time
// limit; bash's error messages count lines from the session's start; `exit` ends the session. After
// any failure the next call starts a fresh bash, in the workspace.
//
// The sandbox's own session (an eval loop) hosts it: each call is one session command (a script
// built here) that starts the inner bash when there is none (its input a FIFO the session keeps
// open on fd 9, its output appended to a file), writes the command, polls the output for the
// sentinel, asks for the exit code as CWM's backend does, and prints the output on stdout and a
// status line on stderr. Files live in kCwmShellDir (in the sandbox's private /tmp).
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "sandbox/sandbox.h"

namespace swebox::tools {

inline constexpr const char* kCwmShellDir = "/tmp/.swebox-cwm-shell";

struct CwmShellConfig {
  double timeout_s = 120;          // CWM's session_timeout, per read
  size_t output_limit = 480 * 1024;  // CWM's max_buffer_size: more is too_long
  // Lines CWM's session reads before the first command (its start script: 12 lines for CWM's default
  // backend with no environment restore), so that bash's line numbers are CWM's.
  int preamble_lines = 12;
  std::string workspace = "/testbed";
};

// The session command that runs `command` in the inner bash and then asks for its exit code.
std::string cwm_shell_run_command(std::string_view command, const CwmShellConfig& config);
// The session command that makes sure the inner bash runs, prints its working directory, then feeds
// it `lines` empty lines: what CWM's edit/create plugin calls cost in its session's line count.
std::string cwm_shell_pad_command(long lines, const CwmShellConfig& config);
// Lines a plugin call (edit/create with this BODY) feeds CWM's session: the heredoc command, the
// exit-code and sentinel lines, and the exit-code query.
long cwm_plugin_call_lines(std::string_view body);
// How long the sandbox should let one of these session commands run (both reads, plus slack).
double cwm_shell_session_timeout(const CwmShellConfig& config);

struct CwmShellResult {
  std::string error_kind;  // "" (success), timeout, too_long, exit, other
  std::string output;      // the command's output up to the sentinel (success only)
  std::optional<int> exit_code;
  std::string cwd;         // from the pad command
  std::string detail;      // what went wrong, for the record
};
CwmShellResult cwm_shell_result(const sandbox::ExecResult& session_run);

}  // namespace swebox::tools
