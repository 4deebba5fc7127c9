// create: a new file from BODY's first line (the path, taken as written) and the rest (the content,
// written exactly, no newline added). CWM's plugins/create.py, done through the confined file API.
#include <algorithm>

#include "tools/builtin_tools.h"
#include "tools/session_path.h"

namespace swebox::tools {

ToolResult create_file(sandbox::Sandbox& sandbox, const std::string& cwd, std::string_view body,
                       const Templates& templates, bool normalised_parent) {
  size_t nl = body.find('\n');
  std::string path(body.substr(0, nl));
  std::string content = nl == std::string_view::npos ? std::string() : std::string(body.substr(nl + 1));
  ToolResult r;
  r.tool = "create";
  auto fail = [&](const char* kind, const char* key, const TemplateVars& vars) {
    return tool_failure("create", kind, templates.render(key, vars));
  };
  const std::string target = resolve_session_path(cwd, path);
  if (!path.empty() && sandbox.exists(target)) return fail("exists", "tools/create_exists", {{"path", path}});
  if (path.empty()) return fail("empty_path", "tools/create_empty_path", {});
  std::string parent = parent_path(normalised_parent ? normalise_path(target) : target);
  if (parent.empty()) parent = cwd.empty() ? "." : cwd;
  if (!sandbox.exists(parent)) return fail("no_parent", "tools/create_no_parent", {{"path", path}, {"parent", parent}});
  if (auto error = sandbox.write_file(target, content, /*create_only=*/true))
    return fail("write_failed", "tools/create_write_failed", {{"path", path}, {"reason", error->message}});
  r.ok = true;
  r.feedback = templates.render("tools/create_done",
                                {{"path", path}, {"num_lines", std::to_string(std::count(content.begin(), content.end(), '\n') + 1)}});
  return r;
}

}  // namespace swebox::tools
