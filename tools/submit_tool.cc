// submit: BODY names a diff file (stripped); its content becomes the submission. The notice shows
// the patch as `cat` in the session would (invalid UTF-8 dropped; one trailing newline off unless
// keep_final_newline, as CWM's released backend keeps it); the recorded patch is the file's exact
// bytes, so evaluation applies what the agent wrote.
#include "tools/action_parser.h"
#include "tools/builtin_tools.h"
#include "tools/session_path.h"

namespace swebox::tools {

namespace {
ToolResult submit_fail(const Templates& templates, const char* kind, const char* key, const TemplateVars& vars) {
  return tool_failure("submit", kind, templates.render(key, vars));
}

// The checks CWM's submit_diff_file makes on what `cat` printed, then the submission notice.
ToolResult submit_content(const std::string& path, std::string content, const Templates& templates, bool keep_final_newline) {
  std::string shown = drop_invalid_utf8(content);
  if (!keep_final_newline && !shown.empty() && shown.back() == '\n') shown.pop_back();
  ToolResult r;
  r.tool = "submit";
  r.raw_output = content;
  if (python_strip(shown).empty()) return submit_fail(templates, "empty", "tools/submit_empty", {{"path", path}});
  if (shown.rfind("diff", 0) != 0) return submit_fail(templates, "not_diff", "tools/submit_not_diff", {{"path", path}});
  r.ok = true;
  r.patch = std::move(content);
  r.feedback = templates.render("tools/submit_done", {{"path", path}, {"patch", shown}});
  return r;
}
}  // namespace

ToolResult submit_file(sandbox::Sandbox& sandbox, const std::string& cwd, std::string_view body,
                       const Templates& templates, bool keep_final_newline) {
  std::string path(python_strip(body));
  if (path.empty())
    return submit_fail(templates, "unreadable", "tools/submit_unreadable", {{"path", path}, {"reason", "no path given"}});
  auto read = sandbox.read_file(resolve_session_path(cwd, path));
  if (auto* error = std::get_if<sandbox::FileError>(&read))
    return submit_fail(templates, "unreadable", "tools/submit_unreadable", {{"path", path}, {"reason", error->message}});
  return submit_content(path, std::move(std::get<std::string>(read)), templates, keep_final_newline);
}

std::string submit_cat_command(std::string_view body) { return "cat " + std::string(python_strip(body)); }

ToolResult submit_result(const sandbox::ExecResult& cat, bool session_failed, std::string_view body,
                         const Templates& templates, bool keep_final_newline) {
  std::string path(python_strip(body));
  if (session_failed || cat.reason != sandbox::StopReason::exited || cat.exit_code != 0) {
    std::string reason = session_failed ? "the session failed" : "cat " + path + " exited with status " + std::to_string(cat.status());
    return submit_fail(templates, "unreadable", "tools/submit_unreadable", {{"path", path}, {"reason", reason}});
  }
  return submit_content(path, cat.out + cat.err, templates, keep_final_newline);
}

}  // namespace swebox::tools
