// Applying a patch (a model's or a gold/test patch) the way SWE-bench's harness does (docs/formats.md §4.2):
// the strict form first, then more lenient ones, saying which one worked, that none did, or that
// the patch is already applied (its reverse applies).
//
// Two forms of the same chain: apply_patch() works on a host directory with libgit2 and an
// in-process lenient applier; apply_patch_script() is the shell text to run inside a sandbox
// (so that files are written as the sandbox's user) with git apply and GNU patch.
#pragma once

#include <stdexcept>
#include <string>
#include <vector>

namespace swebox::tasks {

// The patch text is not a patch at all (empty, or no file diffs libgit2 can parse).
struct PatchError : std::invalid_argument {
  using std::invalid_argument::invalid_argument;
};

struct ApplyResult {
  bool applied = false;          // the patch's changes are now in the tree
  bool already_applied = false;  // nothing applied, but the reverse applies: the changes were there
  std::string strategy;          // which try worked: "git apply", "offset", "whitespace", "fuzz 2", ...
  std::vector<std::string> files;  // paths the patch changed (applied only)
  std::string log;               // one line per try: what it said
};

// Applies `patch` to the directory `dir` (a work tree, .git optional). Tries, in order, until one
// applies every hunk of every file:
//   "git apply"   libgit2's strict apply to the work tree (only when `dir` is a git work tree);
//   "exact"       every hunk's context exactly, at its stated line;
//   "offset"      exact context, anywhere in the file (nearest the stated line first);
//   "whitespace"  context compared with whitespace runs collapsed and ends trimmed;
//   "fuzz N"      as whitespace, ignoring up to N (1..max_fuzz) context lines at each end of a hunk.
// A failed try writes nothing (each file's new text is computed in memory first). When none works,
// the reverse is checked: `already_applied` if it applies exactly. Throws PatchError on text that
// is not a patch.
ApplyResult apply_patch(const std::string& dir, const std::string& patch, int max_fuzz = 5);

// The files a patch touches (old and new paths), in order, without duplicates. Throws PatchError.
std::vector<std::string> patch_files(const std::string& patch);

// Bash script applying the patch file `patch_path` in `workdir` as SWE-bench does: git apply
// --verbose, then --3way, then --reject, then patch --batch --forward --fuzz=5 -p1 -i, restoring the
// touched files between tries (the rest of the tree, e.g. an agent's work, is left alone); then the
// reverse check. Its last line is one of
//   ">>>>> Applied Patch (<try>)"          exit 0
//   ">>>>> Patch Already Applied"          exit 0
//   ">>>>> Patch Apply Failed"             exit 1
std::string apply_patch_script(const std::string& patch_path = "/tmp/patch.diff",
                               const std::string& workdir = "/testbed");

// Reads the script's output back into an ApplyResult (files left empty).
ApplyResult parse_apply_script_output(const std::string& output);

}  // namespace swebox::tasks
