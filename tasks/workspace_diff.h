// What an agent changed: the git-style unified diff of a directory against base_commit's tree,
// as `git add -N . && git diff --binary <base>` shows it (new, deleted and mode-changed files
// included, binary files as "GIT binary patch" so `git apply` can replay them, ignored files left
// out). Nothing is written anywhere: new objects live in memory only.
//
// Everything read is hostile input (the agent wrote it), and the reader is root on the host:
// directories are opened relative to their parent's fd with O_NOFOLLOW, files with
// O_NOFOLLOW|O_NONBLOCK and used only when fstat says they are regular files (a symlink is
// recorded as its link text, never followed; FIFOs, sockets and devices are skipped and named in
// the result), and reading stops at caps per file, in total, in entries and in time: past one,
// the diff is refused (an empty patch and the reason), never taken in unbounded memory.
// .gitignore globs are matched in linear time (wildmatch.h).
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace swebox::tasks {

// How much of the agent's writing the diff reads before refusing it.
struct WorkspaceDiffLimits {
  uint64_t max_file_bytes = 8ull << 20;    // one changed file
  uint64_t max_total_bytes = 32ull << 20;  // all changed files read
  uint64_t max_patch_bytes = 8ull << 20;   // the patch text
  uint64_t max_entries = 200000;           // directory entries the agent made
  uint32_t max_depth = 200;                // directory nesting
  double max_seconds = 120;                // the whole diff
};

struct WorkspaceDiffOptions {
  // A repository holding base_commit's objects (e.g. the workspace cache's tree, a host path).
  // Default: the objects under dir/.git (what the agent's repository holds). upper_layer_diff
  // uses its lower.
  std::string objects_repo;
  // true: binary changes as "GIT binary patch" (applies); false: "Binary files a/x and b/x differ".
  bool binary_patches = true;
  int context_lines = 3;
  // Trust an index entry whose size and mtime match the file, as git does, instead of reading the
  // file (dir/.git/index, else objects_repo's). A file edited to keep both is then missed, as by
  // git. upper_layer_diff uses it for the lower's files only (the agent's are always read).
  bool use_stat_cache = true;
  WorkspaceDiffLimits limits;
};

struct WorkspaceDiffResult {
  std::string patch;                  // "" when refused
  bool refused = false;               // a cap was hit, or the tree could not be read safely
  std::string refused_reason;         // e.g. "a changed file is over 8388608 bytes: data/big.bin"
  std::vector<std::string> skipped;   // special files left out: "path (fifo)", at most 100 named
  uint64_t skipped_count = 0;
  bool git_touched = false;           // upper_layer_diff: the agent changed something under .git
  uint64_t bytes_read = 0;            // of the agent's files
  uint64_t entries = 0;               // directory entries of the agent's looked at

  // {"diff_refused": reason, "skipped_special": [...], "git_touched": bool, ...}: what a judge
  // records; only the fields with something to say.
  nlohmann::json audit() const;
};

// Thrown by workspace_diff() where the result is refused.
struct WorkspaceDiffRefused : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// The diff of a plain directory (a work tree). Throws RepositoryError when base_commit cannot be
// read, std::runtime_error when dir cannot.
WorkspaceDiffResult directory_diff(const std::string& dir, const std::string& base_commit,
                                   const WorkspaceDiffOptions& options = {});

// The diff of an overlay's merged view, read from its two layers on the host without the
// overlay: `upper` (what the agent changed; overlayfs conventions: a 0/0 character device is a
// whiteout (deleted), a directory with the xattr user.overlay.opaque (or trusted.overlay.opaque)
// = "y" hides the lower's) over `lower` (the trusted base tree, whose .git supplies the objects and
// the stat cache). The sandbox's processes must be stopped first. Throws as directory_diff.
WorkspaceDiffResult upper_layer_diff(const std::string& upper, const std::string& lower,
                                     const std::string& base_commit, const WorkspaceDiffOptions& options = {});

// directory_diff's patch; throws WorkspaceDiffRefused where it is refused.
std::string workspace_diff(const std::string& dir, const std::string& base_commit,
                           const WorkspaceDiffOptions& options = {});

}  // namespace swebox::tasks
