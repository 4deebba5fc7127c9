// What sealed grading treats as test infrastructure: the paths a patch may not change if its
// verdict is to mean anything. A patch is judged by what it did to a fresh base tree (the paths
// `git status` lists after the apply chain ran, whatever the patch's format), so each changed path
// is classified here, and the sealed judge puts every infrastructure path back as it is at base.
//
// The rules, in the order a path is checked (the first that matches gives the reason):
//   git metadata and nested repositories, bytecode (*.pyc, __pycache__), conftest.py,
//   sitecustomize/usercustomize, *.pth, package metadata (*.egg-info, *.dist-info: entry points load
//   pytest plugins), pytest/tox/nose configuration (pytest.ini, tox.ini, .noserc, ...; setup.cfg and
//   pyproject.toml only when their test sections change, see split_config_change), symbolic links,
//   test files (the test patch's files and directories, `tests`/`testing` directories, test_*.py,
//   *_test.py, tests.py), the program the test command runs when it is a repository file (sympy's
//   bin/test) and the environment table's test_infra globs, new top-level modules that shadow a
//   module Python or the tests import from outside the repository, and new programs named like the
//   ones the test command runs (python, pytest, ...).
#pragma once

#include <functional>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace swebox::tasks {

// One path the patch changed, as listed in the tree after the apply chain.
struct TreeChange {
  enum class Kind { added, modified, deleted, type_changed };
  std::string path;         // relative to the work tree, '/'-separated
  Kind kind = Kind::modified;
  bool symlink = false;     // the path is a symbolic link now
  bool directory = false;   // listed as a whole directory (a nested git repository)
};
const char* to_string(TreeChange::Kind kind);  // "added", "modified", "deleted", "type changed"

struct InfrastructureContext {
  std::vector<std::string> test_patch_files;  // paths the test patch touches (old and new)
  std::vector<std::string> test_commands;     // the test command line(s), as the eval script runs them
  std::vector<std::string> test_infra_globs;  // the environment table's test_infra
  std::set<std::string> outside_modules;      // top-level modules importable from outside the repository
  // Whether the base tree has this regular file (e.g. "pkg/__init__.py"); null = never.
  std::function<bool(const std::string&)> base_has_file;
};

// Why `change` is test infrastructure, or nullopt when it is code to judge. setup.cfg and
// pyproject.toml are not classified here (their test sections are: split_config_change).
struct InfrastructureReason {
  std::string why;
  bool test_file = false;  // a test file: reset to base, then the test patch applies to it
};
std::optional<InfrastructureReason> infrastructure_reason(const TreeChange& change, const InfrastructureContext& ctx);

// setup.cfg and pyproject.toml: configuration files with test sections among others.
bool is_sectioned_config(const std::string& path);

// A setup.cfg or pyproject.toml change, split into its test sections ([tool:pytest], [pytest],
// [nosetests], [tox...], [tool.pytest...], [tool.tox...], [tool.nose...]) and the rest.
struct ConfigSplit {
  enum class Outcome {
    no_test_change,   // only other sections changed: the change is kept as it is
    test_sections,    // `merged` = the changed file with its test sections as at base (sound)
    whole_file,       // the test sections changed and could not be separated soundly: reset the file
  };
  Outcome outcome = Outcome::no_test_change;
  std::string merged;
  std::string why;    // what was found, for the audit
};
// `base` is the file at the base commit ("" when absent), `changed` the patched file ("" when deleted).
// A split is used only when both have the same section headers in the same order and no changed line
// outside the test sections could change the file's structure (a triple quote, an unbalanced
// bracket in TOML) or names pytest, tox, nose or conftest; otherwise the whole file is reset.
ConfigSplit split_config_change(const std::string& path, const std::string& base, const std::string& changed);

// Matches a path against a glob of the environment table's test_infra (fnmatch without
// FNM_PATHNAME: '*' also matches '/').
bool glob_match(const std::string& glob, const std::string& path);

}  // namespace swebox::tasks
