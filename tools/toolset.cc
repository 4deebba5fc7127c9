#include "tools/toolset.h"

#include <algorithm>
#include <chrono>
#include <memory>
#include <stdexcept>

#include "tools/openai_form.h"
#include "tools/session_path.h"

namespace swebox::tools {
namespace {
double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}
}  // namespace

Toolset::Toolset(sandbox::Sandbox& sandbox, ToolsetConfig config, const Templates& templates)
    : sandbox_(sandbox), config_(config), templates_(templates) {
  names_.push_back("bash");
  if (config_.plugins) {
    names_.push_back("edit");
    names_.push_back("create");
  }
  if (config_.python) names_.push_back("python");
  names_.push_back("submit");
}

bool Toolset::has(std::string_view name) const { return std::find(names_.begin(), names_.end(), name) != names_.end(); }

ParseOptions Toolset::parse_options(ThinkMode think) const { return ParseOptions{names_, think}; }

ToolResult Toolset::finish_file_tool(const ToolCall& call, const std::string& cwd) {
  ToolResult r;
  if (call.name == "submit") return submit_file(sandbox_, cwd, call.body, templates_, config_.keep_final_newline);
  if (call.name == "edit")
    r = edit_file(sandbox_, cwd, call.body, templates_, config_.edit_universal_newlines, config_.edit_requires_utf8);
  else
    r = create_file(sandbox_, cwd, call.body, templates_, config_.create_normalised_parent);
  // CWM's plugins print their notice (print() adds a newline) and the released backend keeps it.
  if (config_.keep_final_newline) r.feedback += '\n';
  return r;
}

ToolResult Toolset::finish_bash(const sandbox::ExecResult& run) const {
  return bash_result(run, templates_, config_.bash_output_limit, config_.keep_final_newline);
}

CwmShellConfig Toolset::shell_config() const {
  CwmShellConfig c;
  c.timeout_s = config_.bash_timeout_s;
  c.output_limit = config_.bash_output_limit;
  c.preamble_lines = config_.shell_preamble_lines;
  c.workspace = config_.workspace;
  return c;
}

ToolResult Toolset::finish_cwm_shell(const ToolCall& call, const sandbox::ExecResult& run) const {
  CwmShellResult shell = cwm_shell_result(run);
  if (call.name == "submit") {
    sandbox::ExecResult cat;
    cat.reason = sandbox::StopReason::exited;
    cat.exit_code = shell.exit_code.value_or(-1);
    cat.out = shell.output;
    return submit_result(cat, !shell.error_kind.empty(), call.body, templates_, config_.keep_final_newline);
  }
  if (!shell.error_kind.empty()) {
    ToolResult r = bash_failure(shell.error_kind, templates_);
    r.detail = shell.detail;
    return r;
  }
  ToolResult r;
  r.tool = "bash";
  r.ok = true;
  r.exit_code = shell.exit_code;
  r.raw_output = shell.output;
  r.feedback = drop_invalid_utf8(shell.output);
  if (!config_.keep_final_newline && !r.feedback.empty() && r.feedback.back() == '\n') r.feedback.pop_back();
  return r;
}

ToolResult Toolset::finish_submit_through_shell(const ToolCall& call, const sandbox::ExecResult& cat) const {
  return submit_result(cat, !bash_result(cat, templates_, config_.bash_output_limit).ok, call.body, templates_,
                       config_.keep_final_newline);
}

ToolResult Toolset::execute(const ToolCall& call) {
  if (!has(call.name)) throw std::invalid_argument("tool '" + call.name + "' is not offered in this toolset");
  auto start = std::chrono::steady_clock::now();
  ToolResult result;
  const CwmShellConfig shell = shell_config();
  if (config_.shell_reads_stdin && (call.name == "bash" || call.name == "submit")) {
    const std::string command = call.name == "bash" ? call.body : submit_cat_command(call.body);
    result = finish_cwm_shell(call, sandbox_.run(cwm_shell_run_command(command, shell), cwm_shell_session_timeout(shell)));
  } else if (config_.shell_reads_stdin && (call.name == "edit" || call.name == "create")) {
    sandbox::ExecResult pad = sandbox_.run(cwm_shell_pad_command(cwm_plugin_call_lines(call.body), shell), kSessionCwdTimeout);
    result = finish_file_tool(call, cwm_shell_result(pad).cwd);
  } else if (call.name == "bash" || (call.name == "submit" && config_.submit_through_shell)) {
    const bool bash = call.name == "bash";
    sandbox::ExecResult run = sandbox_.run(bash ? call.body : submit_cat_command(call.body), config_.bash_timeout_s);
    ToolResult session = finish_bash(run);
    result = bash ? session : finish_submit_through_shell(call, run);
    if (bash_needs_fresh_session(run, session)) sandbox_.run(kEndSessionCommand, kSessionCwdTimeout);
  } else if (call.name == "python") {
    result = python_result(sandbox_.exec(python_request(call.body, config_.python_timeout_s)), templates_);
  } else {
    std::string cwd = session_cwd_from(sandbox_.run(kSessionCwdCommand, kSessionCwdTimeout));
    result = finish_file_tool(call, cwd);
  }
  result.wall_s = seconds_since(start);
  return result;
}

void Toolset::async_execute(const ToolCall& call, std::function<void(ToolResult)> done) {
  if (!has(call.name)) throw std::invalid_argument("tool '" + call.name + "' is not offered in this toolset");
  auto start = std::chrono::steady_clock::now();
  auto finish = [start, done = std::move(done)](ToolResult result) {
    result.wall_s = seconds_since(start);
    done(std::move(result));
  };
  const CwmShellConfig shell = shell_config();
  if (config_.shell_reads_stdin && (call.name == "bash" || call.name == "submit")) {
    const std::string command = call.name == "bash" ? call.body : submit_cat_command(call.body);
    sandbox_.async_run(cwm_shell_run_command(command, shell), cwm_shell_session_timeout(shell),
                       [this, call, finish](sandbox::ExecResult run) { finish(finish_cwm_shell(call, run)); });
  } else if (config_.shell_reads_stdin && (call.name == "edit" || call.name == "create")) {
    sandbox_.async_run(cwm_shell_pad_command(cwm_plugin_call_lines(call.body), shell), kSessionCwdTimeout,
                       [this, call, finish](sandbox::ExecResult pad) { finish(finish_file_tool(call, cwm_shell_result(pad).cwd)); });
  } else if (call.name == "bash" || (call.name == "submit" && config_.submit_through_shell)) {
    const bool bash = call.name == "bash";
    sandbox_.async_run(bash ? call.body : submit_cat_command(call.body), config_.bash_timeout_s,
                       [this, call, bash, finish](sandbox::ExecResult run) {
      ToolResult session = finish_bash(run);
      ToolResult result = bash ? session : finish_submit_through_shell(call, run);
      if (!bash_needs_fresh_session(run, session)) return finish(std::move(result));
      sandbox_.async_run(kEndSessionCommand, kSessionCwdTimeout,
                         [finish, result = std::move(result)](sandbox::ExecResult) mutable { finish(std::move(result)); });
    });
  } else if (call.name == "python") {
    sandbox_.async_exec(python_request(call.body, config_.python_timeout_s),
                        [this, finish](sandbox::ExecResult exec) { finish(python_result(exec, templates_)); });
  } else {
    // The file API is blocking but cheap, so the work happens in the handler of the `pwd` round trip.
    sandbox_.async_run(kSessionCwdCommand, kSessionCwdTimeout, [this, call, finish](sandbox::ExecResult pwd) {
      finish(finish_file_tool(call, session_cwd_from(pwd)));
    });
  }
}


nlohmann::json Toolset::openai_tools() const { return tools::openai_tools(names_, templates_); }

ToolCall Toolset::from_openai_call(const std::string& name, const nlohmann::json& arguments) const {
  if (!has(name)) throw std::invalid_argument("function call names tool '" + name + "', which is not offered");
  return tools::from_openai_call(name, arguments);
}

ToolCall Toolset::from_openai_call(const std::string& name, const std::string& arguments_json) const {
  if (!has(name)) throw std::invalid_argument("function call names tool '" + name + "', which is not offered");
  return tools::from_openai_call(name, arguments_json);
}

}  // namespace swebox::tools
