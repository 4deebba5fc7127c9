// The per-repository test environment: what a repository's tests need on this host (Debian
// packages, environment, files an install step would have generated) and SWE-bench's test command
// for instances that carry no eval_script. The data is tasks/environments.json; this is its reader.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace swebox::tasks {

// The environment of one repository at one version (the table's defaults merged with the first
// matching entry).
struct Environment {
  std::string repo;
  std::string version;
  bool known = false;                 // the table has an entry for this repository and version
  // False when the entry says instances of this version cannot run on this host; `why` says why
  // (e.g. the checkout's C extensions would have to be compiled, or Debian's Python is too new).
  bool supported = true;
  std::string why;
  std::string interpreter;            // e.g. /usr/bin/python3; `python`/`python3` resolve to it
  std::string path;                   // PATH inside the sandbox (set explicitly: no pyenv shims)
  std::vector<std::string> apt;       // Debian packages the tests need
  std::vector<std::pair<std::string, std::string>> env;    // exported before anything runs
  std::vector<std::pair<std::string, std::string>> files;  // workspace path -> content, written before the tests
  std::vector<std::string> setup;     // shell lines run in /testbed instead of the install step
  std::string test_cmd;               // SWE-bench's test command, without the test files
  std::string directives;             // how test files become arguments: "paths" or "django"
  std::string log_parser;             // default parser when the instance names none
  std::vector<std::string> exclude_extensions;  // test_patch files that are not test arguments
  // Repository paths (shell globs) that run or judge the tests beyond the generic rules of
  // tasks/test_infrastructure.h, e.g. sympy's bin/test and its runtests.py; sealed grading strips them.
  std::vector<std::string> test_infra;
  // The tests' network: "none" (the default) or "loopback" (a local server, e.g. requests' httpbin
  // fixture; still nothing beyond the sandbox).
  std::string network = "none";
};

class EnvironmentTable {
 public:
  // Reads a table; throws std::runtime_error naming the file and what is wrong.
  static EnvironmentTable load(const std::string& path);
  static EnvironmentTable parse(const nlohmann::json& table, const std::string& source);
  // $SWEBOX_ENVIRONMENTS when set, else tasks/environments.json of the source tree.
  static std::string default_path();

  // Defaults merged with the first entry whose version patterns match; `known` says whether one did.
  Environment resolve(const std::string& repo, const std::string& version) const;
  const std::string& source() const { return source_; }

 private:
  nlohmann::json table_;
  std::string source_;
};

// Host paths the environment's interpreter and PATH live in that a sandbox's view of the host
// system (/usr, /bin, /sbin, /lib*, /etc: see sandbox/README.md) does not show, for
// sandbox::Config::system_paths: for each PATH entry and the interpreter (also as its symlinks
// resolve) outside those, its prefix (the parent of a bin/ or sbin/ directory, which holds lib/
// too), when it exists on the host.
std::vector<std::string> system_paths(const Environment& env);

// The packages of `apt` that dpkg does not list as installed (read from /var/lib/dpkg/status, once
// per process).
std::vector<std::string> missing_packages(const std::vector<std::string>& apt);

// What is missing for `env` on this host, as one line ("" when nothing is): packages not installed,
// an interpreter that does not exist. Says nothing of `supported` (see environment_unsupported).
std::string environment_problem(const Environment& env);

// "" when `env` may run here; otherwise one line naming the repository and version and saying why
// the table marks it as not supported.
std::string environment_unsupported(const Environment& env);

}  // namespace swebox::tasks
