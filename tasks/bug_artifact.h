// A self-play bug artifact (SSR, docs/formats.md §6.1): the five files an injector produces, kept as
// a directory of those files plus a JSON record (artifact.json) saying where the bug came from and
// what the consistency checks (tasks/bug_validation.h) found.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace swebox::tasks {

struct BugArtifact {
  std::string test_script;              // test_script.sh: runs the chosen tests, in /testbed
  std::vector<std::string> test_files;  // test_files.txt: the oracle test files, one a line
  std::string test_parser;              // test_parser.py: the test output on stdin -> JSON {id: "passed"|"failed"}
  std::string bug_diff;                 // bug_inject.diff: the bug (code files only)
  std::string weaken_diff;              // test_weaken.diff: hides the bug (test files only)
};

// The file names of an artifact directory, and the replication's names also accepted on reading.
inline constexpr const char* kTestScriptFile = "test_script.sh";
inline constexpr const char* kTestFilesFile = "test_files.txt";
inline constexpr const char* kTestParserFile = "test_parser.py";
inline constexpr const char* kBugDiffFile = "bug_inject.diff";
inline constexpr const char* kWeakenDiffFile = "test_weaken.diff";
inline constexpr const char* kArtifactRecordFile = "artifact.json";

// Reads an artifact directory (parse_test_output.py, bug_patch.diff, test_patch.diff accepted for the
// replication's layout). Throws std::runtime_error naming the directory and the missing file.
BugArtifact read_bug_artifact(const std::string& dir);

// Writes the five files into `dir` (created; existing files of those names are replaced).
void write_bug_artifact(const std::string& dir, const BugArtifact& artifact);

// test_files.txt's lines: trimmed, blank lines and '#' comments dropped.
std::vector<std::string> parse_test_files(const std::string& text);

// A repository-relative path that stays in the repository: not empty, not absolute, no "." or ".."
// component, no NUL or newline. Everything an artifact names is checked with this.
bool is_safe_repo_path(const std::string& path);

// A test file by name (the convention the procedural and history injectors use to keep the bug in
// code files and the weakening in test files): a path component "tests"/"test"/"testing", or a file
// name test_*.py, *_test.py, conftest.py.
bool looks_like_test_file(const std::string& path);

}  // namespace swebox::tasks
