// Test runs of a bug artifact (docs/formats.md §6.2): one state of the repository (the original, the
// bug, the bug with the weakening, the bug with some files reverted) built in a fresh sandbox over the
// original's cached tree, the artifact's test script run there, its output given to its parser. Test
// runs are what validation costs, so the runner caches each state's result by content: the original
// run is shared by every artifact with the same script and parser, and reverting every file of a bug
// is the original again.
#pragma once

#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "sandbox/sandbox.h"
#include "tasks/bug_artifact.h"
#include "tasks/environment.h"

namespace swebox::tasks {

// Which state of the repository a run tests. Test files are the original's unless `weaken`.
struct BugTreeState {
  bool bug = false;                        // bug_inject.diff applied
  bool weaken = false;                     // test_weaken.diff applied (after the bug)
  std::vector<std::string> revert_files;   // files of the bug put back to the original, after the bug
};

struct BugTestRun {
  bool infra_failure = false;  // the run could not be done (sandbox, a diff that does not apply...)
  std::string infra_reason;
  std::string setup_error;     // the state could not be made (a diff does not apply): no tests ran
  bool timed_out = false;      // the test script ran past the cap
  int status = -1;             // the test script's exit status
  std::string output;          // the test script's output (stdout and stderr)
  // The parser's verdicts: test id -> passed; nullopt when the parser failed (parse_error says how).
  std::optional<std::map<std::string, bool>> results;
  std::string parse_error;
  double seconds = 0;
  bool cached = false;         // served from the runner's cache

  // Tests the parser reports as passed.
  size_t passed_count() const;
  bool passed(const std::string& id) const;
};

// Reads a parser's output: a JSON object {test id: "passed" | "failed"} (case-insensitive; any other
// value, a non-object, or an empty object is an error, returned as text). Exposed for the tests.
std::optional<std::map<std::string, bool>> parse_parser_output(const std::string& text, std::string* error);

class BugTestRunner {
 public:
  struct Options {
    std::string repos_dir;           // holds <owner>__<name>
    std::string cache_dir;           // the workspace cache's trees (empty: its default)
    std::string repo;                // "owner/name"
    std::string original_commit;     // the original code the artifact's bug is injected into
    double script_timeout_s = 90;    // the test script's cap (the public replication's value)
    double parser_timeout_s = 30;
    Environment environment;         // interpreter paths and environment of the tests
  };
  explicit BugTestRunner(Options options);

  // The original tree on the host (the workspace cache's, read-only: for reading, never for running).
  const std::string& original_tree() const { return tree_; }
  const Options& options() const { return options_; }

  // Runs `state` of `artifact`, or returns the cached run of the same content. Thread-safe.
  BugTestRun run(const BugArtifact& artifact, const BugTreeState& state);

  // Runs a helper program (e.g. tasks/procedural_mutations.py) with the table's python3 in a fresh
  // sandbox over the original tree at /testbed: `script` written to a temporary file, then
  // `python3 FILE args...` with `stdin_data`. For reading the repository, never for judging.
  sandbox::ExecResult run_python_helper(const std::string& script, const std::vector<std::string>& args,
                                        const std::string& stdin_data, double timeout_s = 120);

  // How many runs were done and served from the cache.
  size_t runs_done() const;
  size_t runs_cached() const;

 private:
  BugTestRun run_uncached(const BugArtifact& artifact, const BugTreeState& state);
  Options options_;
  std::string tree_;
  mutable std::mutex mutex_;
  std::map<std::string, BugTestRun> cache_;
  size_t done_ = 0, cached_ = 0;
};

}  // namespace swebox::tasks
