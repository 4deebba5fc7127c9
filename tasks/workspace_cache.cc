#include "tasks/workspace_cache.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <stdexcept>

#include "sandbox/sandbox.h"
#include "tasks/repository.h"

namespace swebox::tasks {
namespace fs = std::filesystem;
namespace {

bool is_full_sha(const std::string& s) {
  return s.size() == GIT_OID_HEXSZ && s.find_first_not_of("0123456789abcdef") == std::string::npos;
}

// An flock on a file beside the tree: concurrent builders (threads or processes) take turns.
struct FileLock {
  explicit FileLock(const std::string& path) : fd(open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644)) {
    if (fd < 0) throw std::runtime_error("cannot create the lock file " + path + ": " + strerror(errno));
    while (flock(fd, LOCK_EX) < 0)
      if (errno != EINTR) throw std::runtime_error("cannot lock " + path + ": " + strerror(errno));
  }
  ~FileLock() { close(fd); }
  int fd;
};

// Gives the checkout, .git included, to `owner`; stamps files with the commit's time so that
// every later index write is newer than them (no "racily clean" entries to re-hash in each sandbox).
void own_and_stamp(const std::string& root, uid_t uid, gid_t gid, bool do_chown, time_t stamp) {
  struct timespec times[2] = {{stamp, 0}, {stamp, 0}};
  auto fix = [&](const fs::path& p) {
    if (do_chown && lchown(p.c_str(), uid, gid) < 0)
      throw std::runtime_error("cannot chown " + p.string() + ": " + strerror(errno));
    utimensat(AT_FDCWD, p.c_str(), times, AT_SYMLINK_NOFOLLOW);
  };
  for (auto it = fs::recursive_directory_iterator(root); it != fs::recursive_directory_iterator(); ++it)
    fix(it->path());
  fix(root);
}

// Re-reads stat data into the index after chown/stamping (contents are unchanged, so no hashing).
void refresh_index_stat(git_repository* repo, const std::string& root) {
  git_index* raw = nullptr;
  check_git(git_repository_index(&raw, repo), "cannot read the index");
  GitIndex index(raw);
  size_t n = git_index_entrycount(raw);
  std::vector<git_index_entry> entries;
  std::vector<std::string> paths;
  entries.reserve(n);
  paths.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    git_index_entry e = *git_index_get_byindex(raw, i);
    paths.emplace_back(e.path);
    struct stat st;
    if (lstat((root + "/" + e.path).c_str(), &st) < 0) continue;
    e.ctime = {static_cast<int32_t>(st.st_ctim.tv_sec), static_cast<uint32_t>(st.st_ctim.tv_nsec)};
    e.mtime = {static_cast<int32_t>(st.st_mtim.tv_sec), static_cast<uint32_t>(st.st_mtim.tv_nsec)};
    e.dev = st.st_dev;
    e.ino = st.st_ino;
    e.uid = st.st_uid;
    e.gid = st.st_gid;
    e.file_size = st.st_size;
    entries.push_back(e);
  }
  for (size_t i = 0; i < entries.size(); ++i) {
    entries[i].path = paths[i].c_str();
    check_git(git_index_add(raw, &entries[i]), "cannot update the index entry " + paths[i]);
  }
  check_git(git_index_write(raw), "cannot write the index");
}

}  // namespace

std::string default_workspace_cache_dir() {
  if (const char* c = std::getenv("SWEBOX_CACHE"); c && *c) return c;
  if (const char* h = std::getenv("HOME"); h && *h) return std::string(h) + "/.cache/swebox/trees";
  return "/tmp/swebox-cache/trees";
}

WorkspaceCache::WorkspaceCache(Options options) : options_(std::move(options)) {}
WorkspaceCache::WorkspaceCache(std::string repos_dir, std::string cache_dir, History history)
    : options_{std::move(repos_dir), std::move(cache_dir), history} {}

std::string WorkspaceCache::tree_path(const std::string& repo, const std::string& base_commit) const {
  std::string leaf = base_commit + (options_.history == History::ancestors ? "+ancestors" : "");
  return (fs::path(repository_path(options_.cache_dir, repo)) / leaf).string();
}

std::string WorkspaceCache::base_tree(const Instance& instance) {
  return base_tree(instance.repo, instance.base_commit);
}

std::string WorkspaceCache::base_tree(const std::string& repo, const std::string& base_commit) {
  // The hit path: one stat, no libgit2.
  if (is_full_sha(base_commit)) {
    std::string path = tree_path(repo, base_commit);
    struct stat st;
    if (stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) {
      // A tree cached before lowers were root's (then owned by the sandbox's host id) is made
      // root's and read-only to every sandbox uid, once.
      auto owner = sandbox::workspace_lower_owner();
      if (options_.chown_to_sandbox && geteuid() == 0 && (st.st_uid != owner.uid || st.st_gid != owner.gid)) {
        FileLock lock(path + ".lock");
        for (auto it = fs::recursive_directory_iterator(path); it != fs::recursive_directory_iterator(); ++it)
          if (lchown(it->path().c_str(), owner.uid, owner.gid) < 0)
            throw std::runtime_error("cannot chown " + it->path().string() + ": " + strerror(errno));
        if (lchown(path.c_str(), owner.uid, owner.gid) < 0)
          throw std::runtime_error("cannot chown " + path + ": " + strerror(errno));
      }
      return path;
    }
  }
  return build(repo, base_commit);
}

std::string WorkspaceCache::build(const std::string& repo, const std::string& base_commit) {
  GitRepository source = open_task_repository(options_.repos_dir, repo);
  GitCommit commit = find_commit(source.get(), base_commit);
  git_oid base = *git_commit_id(commit.get());
  std::string sha = oid_hex(base);
  std::string final_path = tree_path(repo, sha);
  std::string parent = fs::path(final_path).parent_path().string();
  fs::create_directories(parent);

  FileLock lock(final_path + ".lock");
  if (fs::is_directory(final_path)) return final_path;  // another builder finished first

  // Under the lock no one else builds this tree: any temp dir of it was left by a crashed builder.
  std::string tmp_prefix = ".tmp-" + fs::path(final_path).filename().string() + "-";
  for (const auto& entry : fs::directory_iterator(parent))
    if (entry.path().filename().string().rfind(tmp_prefix, 0) == 0) fs::remove_all(entry.path());
  static std::atomic<unsigned> counter{0};
  std::string tmp = parent + "/" + tmp_prefix + std::to_string(getpid()) + "-" + std::to_string(counter++);
  try {
    git_repository_init_options init = GIT_REPOSITORY_INIT_OPTIONS_INIT;
    init.flags = GIT_REPOSITORY_INIT_MKPATH | GIT_REPOSITORY_INIT_NO_REINIT;
    std::string head = "refs/heads/" + options_.branch;
    init.initial_head = options_.branch.c_str();
    git_repository* raw = nullptr;
    check_git(git_repository_init_ext(&raw, tmp.c_str(), &init), "cannot create a repository in " + tmp);
    GitRepository target(raw);

    copy_history(source.get(), target.get(), base, options_.history);

    // HEAD on the branch at base; the checkout writes files and the index.
    git_reference* ref = nullptr;
    check_git(git_reference_create(&ref, raw, head.c_str(), &base, 1, nullptr), "cannot create " + head);
    git_reference_free(ref);
    check_git(git_repository_set_head(raw, head.c_str()), "cannot set HEAD");
    git_checkout_options checkout = GIT_CHECKOUT_OPTIONS_INIT;
    checkout.checkout_strategy = GIT_CHECKOUT_FORCE;
    check_git(git_checkout_head(raw, &checkout), "cannot check out " + sha + " into " + tmp);

    // Inside the sandbox the files show another owner (and overlay may change inode numbers):
    // let git compare only size and mtime so `git status` there stays clean without re-hashing.
    git_config* cfg = nullptr;
    check_git(git_repository_config(&cfg, raw), "cannot open config");
    GitConfig cfg_owner(cfg);
    check_git(git_config_set_string(cfg, "core.checkStat", "minimal"), "cannot set core.checkStat");
    check_git(git_config_set_bool(cfg, "core.trustctime", false), "cannot set core.trustctime");
    cfg_owner.reset();

    // The new repository's own reflog names nothing in the future, but nothing needs it either.
    fs::remove_all(tmp + "/.git/logs");

    auto leaks = history_leaks(tmp, sha, options_.history == History::base_only);
    if (!leaks.empty()) {
      std::string all;
      for (const auto& l : leaks) all += "\n  " + l;
      throw std::runtime_error("the workspace for " + repo + "@" + sha + " shows history past the base:" + all);
    }

    // Root's (when we are root) and so read-only to every sandbox's host uid; each sandbox sees
    // the files as its own user's through an idmapped mount.
    bool do_chown = options_.chown_to_sandbox && geteuid() == 0;
    auto owner = sandbox::workspace_lower_owner();
    own_and_stamp(tmp, owner.uid, owner.gid, do_chown, git_commit_time(commit.get()));
    refresh_index_stat(raw, tmp);
    if (do_chown && lchown((tmp + "/.git/index").c_str(), owner.uid, owner.gid) < 0)
      throw std::runtime_error("cannot chown the index in " + tmp);
    target.reset();

    fs::rename(tmp, final_path);
  } catch (...) {
    std::error_code ec;
    fs::remove_all(tmp, ec);
    throw;
  }
  return final_path;
}

}  // namespace swebox::tasks
