// The per-base-commit tree cache: the read-only lower layer of a sandbox's workspace.
// cache_dir/<owner>__<name>/<base_commit>/ is a checkout of base_commit with a .git that holds only
// the history an agent may see (docs/formats.md §4.6), an index matching the checkout (`git status` is
// clean), owned by the sandbox's host identity so the agent can edit files via overlay copy-up.
// Built once into a temp dir and renamed into place under a lock; later calls cost one stat.
#pragma once

#include <string>

#include "tasks/history_scrub.h"
#include "tasks/suite.h"

namespace swebox::tasks {

// Where `run` and `eval` keep base trees when no --cache is given: $SWEBOX_CACHE, else
// $HOME/.cache/swebox/trees, else (no $HOME) /tmp/swebox-cache/trees.
std::string default_workspace_cache_dir();

class WorkspaceCache {
 public:
  struct Options {
    std::string repos_dir;                  // --repos: DIR/<owner>__<name> per repository
    std::string cache_dir;                  // where the trees live
    History history = History::base_only;   // what of the past the workspace's .git holds
    std::string branch = "main";            // HEAD's branch in the workspace
    bool chown_to_sandbox = true;           // chown to sandbox::workspace_lower_owner(): root (root only)
  };
  explicit WorkspaceCache(Options options);
  WorkspaceCache(std::string repos_dir, std::string cache_dir, History history = History::base_only);

  // The tree of the instance's base commit, materialised on first use. Throws RepositoryError
  // (unknown repository, missing commit) or std::runtime_error (disk, history check).
  std::string base_tree(const Instance& instance);
  std::string base_tree(const std::string& repo, const std::string& base_commit);

  // Where the tree of (repo, base_commit) lives, built or not.
  std::string tree_path(const std::string& repo, const std::string& base_commit) const;

  const Options& options() const { return options_; }

 private:
  std::string build(const std::string& repo, const std::string& base_commit);
  Options options_;
};

}  // namespace swebox::tasks
