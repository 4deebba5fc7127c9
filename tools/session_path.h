// File tools act on paths as the agent's bash session sees them: a relative path is relative to
// the session's current directory (CWM's plugins run inside the session). The tools ask the
// session for its directory with `pwd`, then use the sandbox's confined file API.
#pragma once

#include <string>

#include "sandbox/sandbox.h"

namespace swebox::tools {

inline constexpr const char* kSessionCwdCommand = "pwd";
inline constexpr double kSessionCwdTimeout = 10;

// The directory `pwd` printed, or "" (meaning: the workspace) when the session could not say.
std::string session_cwd_from(const sandbox::ExecResult& pwd_result);

// path as seen from cwd ("" cwd leaves a relative path relative to the workspace).
std::string resolve_session_path(const std::string& cwd, const std::string& path);

// Python's os.path.normpath: "." and empty parts dropped, ".." taking the part before it (at the root
// it stays at the root; in a relative path leading ".." are kept).
std::string normalise_path(const std::string& path);

// The directory part of an absolute or relative path, as Python's os.path.dirname does ("" if none).
std::string parent_path(const std::string& path);

}  // namespace swebox::tools
