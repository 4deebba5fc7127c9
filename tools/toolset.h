// The tools offered in an episode, run against one sandbox. bash and submit are always there; edit,
// create (CWM's "plugins") and python are switched on by the configuration.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "sandbox/sandbox.h"
#include "tools/action_parser.h"
#include "tools/builtin_tools.h"
#include "tools/cwm_shell.h"
#include "tools/openai_form.h"
#include "tools/template.h"
#include "tools/tool_result.h"

namespace swebox::tools {

struct ToolsetConfig {
  bool plugins = true;   // edit and create (CWM: SWERLConfig.plugins)
  bool python = false;   // the python tool (competitive-programming env)
  bool edit_universal_newlines = true;  // edit reads files as CWM's plugin does (CRLF becomes LF); false: bytes kept
  double bash_timeout_s = 120;             // CWM's session_timeout
  size_t bash_output_limit = kBashOutputLimit;
  double python_timeout_s = kPythonTimeout;

  // Switches that reproduce CWM's released environment where it differs from our defaults
  // (docs/formats.md §1.2); the cwm profile turns them on.
  // The released backend (ModalBackend, sanitize=False) keeps the final newline of what the session
  // printed: bash output, the edit/create plugins' printed notice, the `cat` of a submitted file.
  bool keep_final_newline = false;
  // submit reads its file with `cat PATH` in the session, so the shell expands the path (~, $VAR,
  // globs, quotes), as CWM's submit does; false: the path is taken literally.
  bool submit_through_shell = false;
  // edit fails on a file that is not valid UTF-8 (CWM's plugin decodes it as UTF-8 text).
  bool edit_requires_utf8 = false;
  // create checks and names the parent of the lexically normalised absolute path ("a/../b/x" ->
  // "/testbed/b"), as CWM's os.path.dirname(os.path.abspath(path)) does.
  bool create_normalised_parent = false;
  // bash commands are written to the input of one long-lived bash, as CWM's session does
  // (tools/cwm_shell.h): syntax errors, unclosed quotes and heredocs, commands reading their input
  // and bash's line numbers behave as in CWM. submit then runs `cat PATH` in that bash, and edit
  // and create feed it the lines CWM's plugin calls would.
  bool shell_reads_stdin = false;
  int shell_preamble_lines = 12;          // CWM's start script (tools/cwm_shell.h)
  std::string workspace = "/testbed";     // where a fresh inner bash starts
};

class Toolset {
 public:
  // The sandbox and templates must outlive the toolset.
  Toolset(sandbox::Sandbox& sandbox, ToolsetConfig config = {}, const Templates& templates = default_templates());

  // Offered names, in prompt order: bash, edit, create, python, submit.
  const std::vector<std::string>& names() const { return names_; }
  bool has(std::string_view name) const;
  const ToolsetConfig& config() const { return config_; }
  // ParseOptions offering exactly these tools.
  ParseOptions parse_options(ThinkMode think = ThinkMode::off) const;

  // Runs one call to completion. Must not be called from a handler running on the sandbox's
  // io_context (it uses the sandbox's blocking forms). A name not offered is std::invalid_argument.
  ToolResult execute(const ToolCall& call);
  // The same, without blocking: `done` runs on the sandbox's io_context when the call finishes.
  void async_execute(const ToolCall& call, std::function<void(ToolResult)> done);

  // The same tools in OpenAI function-calling form: [{"type":"function","function":{name,description,parameters}}].
  nlohmann::json openai_tools() const;
  // Maps a function call back to our call (see openai_form.h); a name not offered is std::invalid_argument.
  ToolCall from_openai_call(const std::string& name, const nlohmann::json& arguments) const;
  ToolCall from_openai_call(const std::string& name, const std::string& arguments_json) const;

 private:
  ToolResult finish_file_tool(const ToolCall& call, const std::string& cwd);
  ToolResult finish_bash(const sandbox::ExecResult& run) const;
  CwmShellConfig shell_config() const;
  ToolResult finish_cwm_shell(const ToolCall& call, const sandbox::ExecResult& run) const;
  ToolResult finish_submit_through_shell(const ToolCall& call, const sandbox::ExecResult& cat) const;
  sandbox::Sandbox& sandbox_;
  ToolsetConfig config_;
  Templates templates_;
  std::vector<std::string> names_;
};

}  // namespace swebox::tools
