// What of a repository's history an agent may see (docs/formats.md §4.6): base_commit and, optionally,
// its ancestors; nothing after it. Three parts: copying exactly that history into a fresh
// repository (how the workspace cache builds one), scrubbing an existing repository in place
// (CWM: one branch, no remotes, no reflog, unreachable objects pruned), and the v4.1 check.
#pragma once

#include <string>
#include <vector>

#include <git2.h>

namespace swebox::tasks {

enum class History {
  base_only,  // just base_commit (a shallow repository: .git/shallow lists it); the default
  ancestors,  // base_commit and all its ancestors
};
History parse_history(const std::string& name);  // "base" | "ancestors"; throws std::invalid_argument
const char* to_string(History h);

// Packs base_commit's objects (its commit and tree, or every ancestor's) from `source` into
// `target`'s object store, and for base_only marks `target` shallow at base_commit.
void copy_history(git_repository* source, git_repository* target, const git_oid& base, History history);

// Scrubs the repository at `path` in place so that only `base_commit` and its ancestors remain:
// HEAD on refs/heads/<branch> at base_commit (work tree and index reset to it when non-bare); every
// other ref, tag, note and remote, upstream settings, reflogs, packed-refs entries, alternates and
// unreachable objects removed.
void scrub_history(const std::string& path, const std::string& base_commit, const std::string& branch = "main");

// The v4.1 check, widened: lists what would let an agent see past base_commit (empty = clean).
// Equivalent to `git log --all --since=<base+1s>` being empty, plus: refs other than the branch,
// remotes, reflogs, and objects not reachable from base_commit (the last one only when
// `check_objects`, since it reads every tree of the history).
std::vector<std::string> history_leaks(const std::string& path, const std::string& base_commit,
                                       bool check_objects = true);

}  // namespace swebox::tasks
