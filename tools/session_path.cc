#include "tools/session_path.h"

#include <vector>

namespace swebox::tools {

std::string session_cwd_from(const sandbox::ExecResult& r) {
  if (r.reason != sandbox::StopReason::exited || r.exit_code != 0 || r.session_restarted) return "";
  std::string out = r.out;
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
  size_t nl = out.rfind('\n');  // anything a shell hook printed comes before pwd's line
  std::string cwd = nl == std::string::npos ? out : out.substr(nl + 1);
  return !cwd.empty() && cwd.front() == '/' ? cwd : "";
}

std::string resolve_session_path(const std::string& cwd, const std::string& path) {
  if (path.empty() || path.front() == '/' || cwd.empty()) return path;
  return cwd.back() == '/' ? cwd + path : cwd + "/" + path;
}

std::string normalise_path(const std::string& path) {
  if (path.empty()) return ".";
  const bool absolute = path.front() == '/';
  // POSIX keeps exactly two leading slashes; Python's posixpath.normpath does the same.
  const std::string root = !absolute ? "" : (path.size() >= 2 && path[1] == '/' && (path.size() == 2 || path[2] != '/')) ? "//" : "/";
  std::vector<std::string> parts;
  size_t i = 0;
  while (i <= path.size()) {
    size_t j = path.find('/', i);
    if (j == std::string::npos) j = path.size();
    std::string part = path.substr(i, j - i);
    if (part.empty() || part == ".") {
    } else if (part != "..") {
      parts.push_back(part);
    } else if (!parts.empty() && parts.back() != "..") {
      parts.pop_back();
    } else if (!absolute) {
      parts.push_back(part);
    }
    i = j + 1;
  }
  std::string out = root;
  for (size_t k = 0; k < parts.size(); ++k) out += (k ? "/" : "") + parts[k];
  return out.empty() ? "." : out;
}

std::string parent_path(const std::string& path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos) return "";
  std::string head = path.substr(0, slash + 1);
  // os.path.dirname keeps a run of leading slashes but drops trailing ones otherwise
  size_t end = head.find_last_not_of('/');
  return end == std::string::npos ? head : head.substr(0, end + 1);
}

}  // namespace swebox::tools
