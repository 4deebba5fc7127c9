// Procedural and history bug injectors (docs/formats.md §6.5, §6.6): candidate bug diffs without a
// model, each made into the same artifact as a policy's (tasks/bug_artifact.h) with the test script
// and parser for pytest, and the weakening derived from the tests the bug breaks.
//   procedural: Python-AST mutations in SWE-smith's style and "removal" (a function's logic deleted),
//               by tasks/procedural_mutations.py in a sandbox over the original tree;
//   history:    a past commit reverted (libgit2) onto the original, its code files only (SSR's
//               strongest strategy).
#pragma once

#include <string>
#include <vector>

#include "tasks/bug_artifact.h"
#include "tasks/bug_test_run.h"

namespace swebox::tasks {

struct BugCandidate {
  std::string strategy;     // "op_change", ..., "removal", "history"
  std::string description;  // where: "toolz/itertoolz.py:groupby", "revert 1a2b3c4 fix frequencies"
  std::string bug_diff;
};

// The procedural generator's strategy names.
std::vector<std::string> procedural_strategies();

// At most `limit` procedural candidates, in an order shuffled by `seed`; `strategies` empty = all.
// Throws std::runtime_error when the generator fails (its stderr in the message).
std::vector<BugCandidate> procedural_candidates(BugTestRunner& runner, unsigned seed, int limit,
                                                const std::vector<std::string>& strategies = {});

// One candidate per commit reachable from `original_commit` (newest first, the root excluded) whose
// revert onto the original applies cleanly and changes code files; at most `limit`.
std::vector<BugCandidate> history_candidates(const std::string& repository_path, const std::string& original_commit,
                                             int limit);

// The pytest test files of the original tree (looks_like_test_file and test_*.py / *_test.py).
std::vector<std::string> pytest_test_files(const std::string& tree);

// An artifact for `bug_diff` whose test script runs `test_files` with pytest -rA (PYTHONPATH=/testbed,
// third-party plugins not auto-loaded)
// and whose parser is tasks/pytest_rA_parser.py; no weakening yet.
BugArtifact pytest_artifact(const std::vector<std::string>& test_files, const std::string& bug_diff);

// The weakening for `broken` test ids (pytest ids): their test functions removed from the original
// test files. `unmatched` gets the ids no function was found for.
std::string derive_weakening(BugTestRunner& runner, const std::vector<std::string>& broken,
                             std::vector<std::string>* unmatched = nullptr);

}  // namespace swebox::tasks
