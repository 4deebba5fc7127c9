#include "tasks/workspace_diff.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <map>
#include <memory>
#include <sstream>
#include <vector>

#include <git2/sys/mempack.h>

#include "tasks/repository.h"
#include "tasks/wildmatch.h"

namespace swebox::tasks {
namespace {

using Clock = std::chrono::steady_clock;

// Past a cap: the walk stops and the diff is refused with this reason.
struct Refusal {
  std::string reason;
};

// An owned file descriptor.
struct Fd {
  int fd = -1;
  Fd() = default;
  explicit Fd(int f) : fd(f) {}
  Fd(Fd&& o) noexcept : fd(o.fd) { o.fd = -1; }
  Fd& operator=(Fd&& o) noexcept {
    if (this != &o) {
      reset();
      fd = o.fd;
      o.fd = -1;
    }
    return *this;
  }
  ~Fd() { reset(); }
  void reset() {
    if (fd >= 0) close(fd);
    fd = -1;
  }
  explicit operator bool() const { return fd >= 0; }
};

Fd open_dir_at(int dirfd, const char* name) {
  return Fd(openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
}

// The names in a directory (not "." and ".."), read through a duplicate of its fd.
std::vector<std::string> list_names(int dirfd) {
  std::vector<std::string> names;
  int dup_fd = fcntl(dirfd, F_DUPFD_CLOEXEC, 0);
  if (dup_fd < 0) throw std::runtime_error(std::string("cannot read a directory: ") + strerror(errno));
  DIR* d = fdopendir(dup_fd);
  if (!d) {
    close(dup_fd);
    throw std::runtime_error(std::string("cannot read a directory: ") + strerror(errno));
  }
  rewinddir(d);
  errno = 0;
  while (dirent* e = readdir(d)) {
    if (std::strcmp(e->d_name, ".") == 0 || std::strcmp(e->d_name, "..") == 0) continue;
    names.emplace_back(e->d_name);
  }
  int err = errno;
  closedir(d);
  if (err) throw std::runtime_error(std::string("cannot read a directory: ") + strerror(err));
  return names;
}

enum class ReadStatus { ok, not_regular, too_big, gone };

// Reads a regular file named in dirfd without following a link or blocking on a FIFO; at most
// `cap` bytes (more is too_big, nothing kept).
ReadStatus read_regular(int dirfd, const char* name, uint64_t cap, std::string* out) {
  Fd fd(openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC));
  if (!fd) return errno == ELOOP ? ReadStatus::not_regular : ReadStatus::gone;
  struct stat st;
  if (fstat(fd.fd, &st) != 0) return ReadStatus::gone;
  if (!S_ISREG(st.st_mode)) return ReadStatus::not_regular;
  if (static_cast<uint64_t>(st.st_size) > cap) return ReadStatus::too_big;
  out->clear();
  out->reserve(static_cast<size_t>(st.st_size));
  char buf[65536];
  for (;;) {
    ssize_t n = read(fd.fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return ReadStatus::gone;
    if (n == 0) break;
    if (out->size() + static_cast<uint64_t>(n) > cap) {
      out->clear();
      return ReadStatus::too_big;
    }
    out->append(buf, static_cast<size_t>(n));
  }
  return ReadStatus::ok;
}

const char* kind_name(mode_t m) {
  if (S_ISFIFO(m)) return "fifo";
  if (S_ISSOCK(m)) return "socket";
  if (S_ISCHR(m)) return "character device";
  if (S_ISBLK(m)) return "block device";
  return "special file";
}

bool is_whiteout(const struct stat& st) { return S_ISCHR(st.st_mode) && st.st_rdev == makedev(0, 0); }

bool xattr_is_y(int fd, const char* name) {
  char v[4];
  ssize_t n = fgetxattr(fd, name, v, sizeof v);
  return n == 1 && v[0] == 'y';
}

bool is_opaque(int dirfd) {
  return xattr_is_y(dirfd, "user.overlay.opaque") || xattr_is_y(dirfd, "trusted.overlay.opaque");
}

// Overlay features this reader does not implement (a sandbox mounts with userxattr, where the
// kernel refuses them): a directory renamed with a redirect, a metadata-only copy-up. Finding one
// refuses the diff rather than misreading it.
bool has_xattr(int fd, const char* name) { return fgetxattr(fd, name, nullptr, 0) >= 0; }
bool uses_unsupported_overlay_feature(int fd) {
  for (const char* prefix : {"user.overlay.", "trusted.overlay."})
    for (const char* what : {"redirect", "metacopy"})
      if (has_xattr(fd, (std::string(prefix) + what).c_str())) return true;
  return false;
}

// One line of a .gitignore (or .git/info/exclude), compiled.
struct IgnoreRule {
  std::string base;  // directory of the file it came from, relative to the root ("" = root)
  bool negate = false;
  bool dir_only = false;
  bool basename_only = false;  // no '/' in the pattern: matches the last component at any depth
  Wildmatch glob;
};

// Bounds on what ignore files can make the matcher do (a hostile .gitignore is part of the input).
constexpr uint64_t kMaxIgnoreFileBytes = 1 << 20;
constexpr size_t kMaxIgnoreRules = 5000;
constexpr size_t kMaxIgnorePattern = 1024;

void add_ignore_rules(const std::string& text, const std::string& base, std::vector<IgnoreRule>& rules) {
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (rules.size() >= kMaxIgnoreRules) throw Refusal{"more than " + std::to_string(kMaxIgnoreRules) + " ignore rules"};
    if (!line.empty() && line.back() == '\r') line.pop_back();
    while (!line.empty() && line.back() == ' ' && !(line.size() > 1 && line[line.size() - 2] == '\\')) line.pop_back();
    if (line.empty() || line[0] == '#') continue;
    IgnoreRule rule;
    rule.base = base;
    if (line[0] == '!') {
      rule.negate = true;
      line.erase(0, 1);
    } else if (line[0] == '\\' && line.size() > 1 && (line[1] == '!' || line[1] == '#')) {
      line.erase(0, 1);
    }
    if (!line.empty() && line.back() == '/') {
      rule.dir_only = true;
      line.pop_back();
    }
    if (line.empty()) continue;
    rule.basename_only = line.find('/') == std::string::npos;
    if (line[0] == '/') line.erase(0, 1);
    if (line.size() > kMaxIgnorePattern) continue;  // no real rule is this long; it could only cost time
    rule.glob = Wildmatch(line, /*pathname=*/!rule.basename_only);
    if (!rule.glob.usable()) continue;  // git ignores patterns it cannot use, too
    rules.push_back(std::move(rule));
  }
}

// `tick` runs every few rules: many long rules against a long path can take a while.
template <class Tick>
bool is_ignored(const std::vector<IgnoreRule>& rules, const std::string& path, bool is_dir, Tick tick) {
  size_t slash = path.rfind('/');
  std::string_view name = std::string_view(path).substr(slash == std::string::npos ? 0 : slash + 1);
  size_t n = 0;
  for (auto it = rules.rbegin(); it != rules.rend(); ++it) {
    if (++n % 64 == 0) tick();
    if (it->dir_only && !is_dir) continue;
    std::string_view rel = path;
    if (!it->base.empty()) {
      if (path.compare(0, it->base.size() + 1, it->base + "/") != 0) continue;
      rel = rel.substr(it->base.size() + 1);
    }
    if (it->glob.matches(it->basename_only ? name : rel)) return !it->negate;
  }
  return false;
}

struct BaseEntry {
  git_oid id;
  uint32_t mode;
};

// git's stat cache: an index entry whose size and mtime match the file, written before the index
// itself (not "racily clean"), names the file's blob without reading it.
struct StatCache {
  GitIndex index;
  int64_t index_mtime = 0;
  const git_oid* lookup(const std::string& rel, const struct stat& st, uint32_t mode, git_odb* odb) const {
    if (!index) return nullptr;
    const git_index_entry* e = git_index_get_bypath(index.get(), rel.c_str(), 0);
    if (!e || e->mode != mode || e->file_size != static_cast<uint32_t>(st.st_size) ||
        e->mtime.seconds != static_cast<int32_t>(st.st_mtim.tv_sec) ||
        e->mtime.nanoseconds != static_cast<uint32_t>(st.st_mtim.tv_nsec) || e->mtime.seconds >= index_mtime ||
        !git_odb_exists(odb, &e->id))
      return nullptr;
    return &e->id;
  }
  // `path` must be a regular file (libgit2 opens it by path: only trusted or checked paths here).
  void open(const std::string& path) {
    struct stat st;
    git_index* raw = nullptr;
    if (lstat(path.c_str(), &st) < 0 || !S_ISREG(st.st_mode) || git_index_open(&raw, path.c_str()) < 0) return;
    index.reset(raw);
    index_mtime = st.st_mtim.tv_sec;
  }
};

// A directory of the merged tree: its fd in the upper (agent) layer and in the lower (trusted)
// layer, either absent. A plain directory is an upper layer without overlay conventions.
struct Level {
  Fd upper, lower;
};

// An entry of a merged directory: which layer holds it, and its lstat there.
struct Entry {
  bool from_upper = false;
  struct stat st {};
};

struct Walker {
  git_odb* odb;
  git_index* index;
  const std::map<std::string, BaseEntry>& base;
  const StatCache& stat_cache;
  bool overlay;          // the upper follows overlayfs conventions (whiteouts, opaque dirs)
  bool cache_upper;      // the stat cache may vouch for files of the upper (plain directories)
  const WorkspaceDiffLimits& limits;
  Clock::time_point deadline;
  WorkspaceDiffResult& result;
  std::vector<IgnoreRule> rules;

  void add_known(const std::string& rel, uint32_t mode, const git_oid& id) {
    git_index_entry e{};
    e.mode = mode;
    e.id = id;
    e.path = rel.c_str();
    check_git(git_index_add(index, &e), "cannot add " + rel);
  }

  // True when the base tree has `dir` as a directory (so it is tracked, whatever the rules say).
  bool tracked_dir(const std::string& dir) const {
    auto it = base.lower_bound(dir + "/");
    return it != base.end() && it->first.compare(0, dir.size() + 1, dir + "/") == 0;
  }

  void add(const std::string& rel, uint32_t mode, const std::string& content) {
    git_oid id;
    check_git(git_odb_hash(&id, content.data(), content.size(), GIT_OBJECT_BLOB), "cannot hash " + rel);
    if (!git_odb_exists(odb, &id))
      check_git(git_odb_write(&id, odb, content.data(), content.size(), GIT_OBJECT_BLOB), "cannot store " + rel);
    add_known(rel, mode, id);
  }

  void skip_special(const std::string& rel, mode_t mode) {
    if (result.skipped.size() < 100) result.skipped.push_back(rel + " (" + kind_name(mode) + ")");
    ++result.skipped_count;
  }

  void tick() {
    if (Clock::now() > deadline)
      throw Refusal{"the diff took longer than " + std::to_string(static_cast<long>(limits.max_seconds)) + " s"};
  }

  // The entries of a merged directory, by name (".git" included; the caller decides).
  std::map<std::string, Entry> merged_entries(const Level& lv, const std::string& rel_dir) {
    std::map<std::string, Entry> out;
    std::vector<std::string> whiteouts;
    bool opaque = false;
    if (lv.upper) {
      if (overlay && uses_unsupported_overlay_feature(lv.upper.fd))
        throw Refusal{"the upper layer uses an overlay feature the judge does not read (redirect or metacopy) at '" +
                      rel_dir + "'"};
      opaque = overlay && is_opaque(lv.upper.fd);
      for (std::string& name : list_names(lv.upper.fd)) {
        if (++result.entries > limits.max_entries)
          throw Refusal{"the workspace has more than " + std::to_string(limits.max_entries) + " new entries"};
        if (result.entries % 256 == 0) tick();
        Entry e;
        e.from_upper = true;
        if (fstatat(lv.upper.fd, name.c_str(), &e.st, AT_SYMLINK_NOFOLLOW) != 0) continue;
        if (overlay && is_whiteout(e.st)) {
          whiteouts.push_back(name);
          continue;
        }
        out.emplace(std::move(name), e);
      }
    }
    std::sort(whiteouts.begin(), whiteouts.end());
    if (lv.lower && !opaque) {
      for (std::string& name : list_names(lv.lower.fd)) {
        if (out.count(name) || std::binary_search(whiteouts.begin(), whiteouts.end(), name)) continue;
        Entry e;
        if (fstatat(lv.lower.fd, name.c_str(), &e.st, AT_SYMLINK_NOFOLLOW) != 0) continue;
        out.emplace(std::move(name), e);
      }
    }
    if (overlay && rel_dir.empty()) {
      auto g = out.find(".git");
      if (std::find(whiteouts.begin(), whiteouts.end(), ".git") != whiteouts.end() ||
          (g != out.end() && g->second.from_upper))
        result.git_touched = true;
    }
    return out;
  }

  // The child directory `name` of `lv` as a Level: the upper's (if the entry is there) over the
  // lower's (unless the upper's hides it).
  Level open_child(const Level& lv, const std::string& name, const Entry& e) {
    Level child;
    if (e.from_upper) {
      child.upper = open_dir_at(lv.upper.fd, name.c_str());
      if (!child.upper) throw Refusal{"cannot open a directory of the upper layer: " + name};
      if (overlay && is_opaque(child.upper.fd)) return child;
    }
    if (lv.lower) {
      struct stat st;
      if (fstatat(lv.lower.fd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode))
        child.lower = open_dir_at(lv.lower.fd, name.c_str());
    }
    return child;
  }

  // Whether `name` exists (not whited out) in the merged directory `lv`.
  bool merged_has(const Level& lv, const char* name) {
    struct stat st;
    if (lv.upper && fstatat(lv.upper.fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0)
      return !(overlay && is_whiteout(st));
    if (lv.upper && overlay && is_opaque(lv.upper.fd)) return false;
    return lv.lower && fstatat(lv.lower.fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0;
  }

  // The text of an ignore file in a merged directory; "" when it is not a regular file.
  std::string read_ignore_file(const Level& lv, const std::map<std::string, Entry>& entries, const char* name) {
    auto it = entries.find(name);
    if (it == entries.end() || !S_ISREG(it->second.st.st_mode)) return "";
    std::string text;
    int fd = it->second.from_upper ? lv.upper.fd : lv.lower.fd;
    ReadStatus s = read_regular(fd, name, kMaxIgnoreFileBytes, &text);
    if (s == ReadStatus::too_big) throw Refusal{"an ignore file is over " + std::to_string(kMaxIgnoreFileBytes) + " bytes"};
    return s == ReadStatus::ok ? text : "";
  }

  void walk(const Level& lv, const std::string& rel_dir, bool inside_ignored, uint32_t depth) {
    if (depth > limits.max_depth)
      throw Refusal{"the workspace nests directories deeper than " + std::to_string(limits.max_depth)};
    tick();
    std::map<std::string, Entry> entries = merged_entries(lv, rel_dir);
    size_t rules_before = rules.size();
    add_ignore_rules(read_ignore_file(lv, entries, ".gitignore"), rel_dir, rules);
    for (const auto& [name, e] : entries) {
      if (name == ".git") continue;
      std::string rel = rel_dir.empty() ? name : rel_dir + "/" + name;
      if (rel.size() > 4096) throw Refusal{"a path in the workspace is longer than 4096 bytes"};
      bool tracked = base.count(rel) > 0;
      const struct stat& st = e.st;
      int fd = e.from_upper ? lv.upper.fd : lv.lower.fd;
      if (S_ISDIR(st.st_mode)) {
        bool tracked_here = tracked_dir(rel);
        bool ignored = inside_ignored || is_ignored(rules, rel, true, [this] { tick(); });
        if (ignored && !tracked_here) continue;
        Level child = open_child(lv, name, e);
        if (!child.upper && !child.lower) continue;  // vanished meanwhile
        // An embedded repository shows as one untracked entry in git; its files are not ours to diff.
        if (!tracked_here && merged_has(child, ".git")) continue;
        walk(child, rel, ignored, depth + 1);
        continue;
      }
      if (!tracked && (inside_ignored || is_ignored(rules, rel, false, [this] { tick(); }))) continue;
      if (S_ISLNK(st.st_mode)) {
        char target[4097];
        ssize_t n = readlinkat(fd, name.c_str(), target, sizeof target);
        if (n < 0) continue;
        if (n == sizeof target) throw Refusal{"a symlink's target is longer than 4096 bytes: " + rel};
        add(rel, GIT_FILEMODE_LINK, std::string(target, static_cast<size_t>(n)));
      } else if (S_ISREG(st.st_mode)) {
        uint32_t mode = (st.st_mode & S_IXUSR) ? GIT_FILEMODE_BLOB_EXECUTABLE : GIT_FILEMODE_BLOB;
        if (!e.from_upper || cache_upper)
          if (const git_oid* known = stat_cache.lookup(rel, st, mode, odb)) {
            add_known(rel, mode, *known);
            continue;
          }
        std::string content;
        ReadStatus s;
        if (e.from_upper) {
          uint64_t left = limits.max_total_bytes - std::min(limits.max_total_bytes, result.bytes_read);
          s = read_regular(fd, name.c_str(), std::min(limits.max_file_bytes, left), &content);
          if (s == ReadStatus::too_big)
            throw Refusal{static_cast<uint64_t>(st.st_size) > limits.max_file_bytes
                              ? "a changed file is over " + std::to_string(limits.max_file_bytes) + " bytes: " + rel
                              : "the changed files are over " + std::to_string(limits.max_total_bytes) +
                                    " bytes in all (at " + rel + ")"};
          result.bytes_read += content.size();
        } else {
          s = read_regular(fd, name.c_str(), UINT64_MAX, &content);
        }
        if (s == ReadStatus::not_regular) skip_special(rel, st.st_mode);
        if (s != ReadStatus::ok) continue;
        add(rel, mode, content);
      } else if (e.from_upper) {
        skip_special(rel, st.st_mode);
      }
    }
    rules.resize(rules_before);
  }
};

int collect_base(const char* root, const git_tree_entry* entry, void* payload) {
  auto* out = static_cast<std::map<std::string, BaseEntry>*>(payload);
  if (git_tree_entry_type(entry) == GIT_OBJECT_TREE) return 0;
  (*out)[std::string(root) + git_tree_entry_name(entry)] = {*git_tree_entry_id(entry), git_tree_entry_filemode(entry)};
  return 0;
}

// git_diff_to_buf's printing, stopping at a size cap.
struct PatchSink {
  std::string text;
  uint64_t cap;
  bool over = false;
};

int print_line(const git_diff_delta*, const git_diff_hunk*, const git_diff_line* line, void* payload) {
  auto* sink = static_cast<PatchSink*>(payload);
  if (sink->text.size() + line->content_len + 1 > sink->cap) {
    sink->over = true;
    return -1;
  }
  if (line->origin == GIT_DIFF_LINE_ADDITION || line->origin == GIT_DIFF_LINE_DELETION ||
      line->origin == GIT_DIFF_LINE_CONTEXT)
    sink->text += line->origin;
  sink->text.append(line->content, line->content_len);
  return 0;
}

// The text of `.git/info/exclude` in a merged root, read without following links ("" if none).
std::string read_info_exclude(Walker& w, const Level& root) {
  auto step = [&](const Level& lv, const char* name, Level* out) {
    auto entries = w.merged_entries(lv, "-");
    auto it = entries.find(name);
    if (it == entries.end() || !S_ISDIR(it->second.st.st_mode)) return false;
    *out = w.open_child(lv, name, it->second);
    return true;
  };
  Level git, info;
  if (!step(root, ".git", &git) || !step(git, "info", &info)) return "";
  return w.read_ignore_file(info, w.merged_entries(info, "-"), "exclude");
}

// The diff of the merged tree of `root` against base_commit, with objects from `repo_path` (or
// the directory's own .git/objects when empty).
WorkspaceDiffResult diff_tree(Level root, bool overlay, const std::string& what, const std::string& repo_path,
                              const std::string& own_objects, const std::string& stat_cache_index,
                              const std::string& base_commit, const WorkspaceDiffOptions& options) {
  init_libgit2();
  WorkspaceDiffResult result;
  GitRepository repo;
  if (!repo_path.empty()) {
    repo = open_repository(repo_path);
  } else {
    // The directory's own object store, opened as an object database only (libgit2 would resolve
    // a /proc/<pid>/root path to the host's namesake).
    git_odb* odb = nullptr;
    check_git(git_odb_open(&odb, own_objects.c_str()), "cannot read the objects of " + what + "/.git");
    GitOdb odb_owner(odb);
    git_repository* raw = nullptr;
    check_git(git_repository_wrap_odb(&raw, odb), "cannot use the objects of " + what + "/.git");
    repo.reset(raw);
  }
  git_odb* odb = nullptr;
  check_git(git_repository_odb(&odb, repo.get()), "cannot read the object database");
  GitOdb odb_owner(odb);
  git_odb_backend* memory = nullptr;
  check_git(git_mempack_new(&memory), "cannot create an in-memory object store");
  check_git(git_odb_add_backend(odb, memory, 1000), "cannot add an in-memory object store");

  GitCommit commit = find_commit(repo.get(), base_commit);
  git_tree* base_raw = nullptr;
  check_git(git_commit_tree(&base_raw, commit.get()), "cannot read the tree of " + base_commit);
  GitTree base_tree(base_raw);
  std::map<std::string, BaseEntry> base;
  check_git(git_tree_walk(base_raw, GIT_TREEWALK_PRE, collect_base, &base), "cannot list the tree of " + base_commit);

  git_index* index_raw = nullptr;
  check_git(git_index_new(&index_raw), "cannot create an index");
  GitIndex index(index_raw);
  StatCache stat_cache;
  if (options.use_stat_cache && !stat_cache_index.empty()) stat_cache.open(stat_cache_index);
  auto deadline = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                     std::chrono::duration<double>(options.limits.max_seconds));
  Walker walker{odb, index_raw, base, stat_cache, overlay, !overlay, options.limits, deadline, result, {}};
  try {
    add_ignore_rules(read_info_exclude(walker, root), "", walker.rules);
    walker.walk(root, "", false, 0);
    // Submodules (gitlinks) are not in the directory as content; keep them as the base has them.
    for (const auto& [path, entry] : base) {
      if (entry.mode != GIT_FILEMODE_COMMIT) continue;
      // Present as a directory in the merged tree, component by component, without links.
      Level lv;
      lv.upper = root.upper ? Fd(fcntl(root.upper.fd, F_DUPFD_CLOEXEC, 0)) : Fd();
      lv.lower = root.lower ? Fd(fcntl(root.lower.fd, F_DUPFD_CLOEXEC, 0)) : Fd();
      bool present = true;
      std::istringstream parts(path);
      for (std::string part; present && std::getline(parts, part, '/');) {
        auto entries = walker.merged_entries(lv, "-");
        auto it = entries.find(part);
        if (it == entries.end() || !S_ISDIR(it->second.st.st_mode)) present = false;
        else lv = walker.open_child(lv, part, it->second);
      }
      if (!present) continue;
      git_index_entry e{};
      e.mode = entry.mode;
      e.id = entry.id;
      e.path = path.c_str();
      check_git(git_index_add(index_raw, &e), "cannot add the submodule " + path);
    }
  } catch (const Refusal& r) {
    result.refused = true;
    result.refused_reason = r.reason;
    return result;
  }

  git_oid new_tree_id;
  check_git(git_index_write_tree_to(&new_tree_id, index_raw, repo.get()), "cannot build the tree of " + what);
  git_tree* new_raw = nullptr;
  check_git(git_tree_lookup(&new_raw, repo.get(), &new_tree_id), "cannot read the new tree");
  GitTree new_tree(new_raw);

  git_diff_options opts = GIT_DIFF_OPTIONS_INIT;
  opts.context_lines = options.context_lines;
  if (options.binary_patches) opts.flags |= GIT_DIFF_SHOW_BINARY;
  git_diff* diff_raw = nullptr;
  check_git(git_diff_tree_to_tree(&diff_raw, repo.get(), base_raw, new_raw, &opts), "cannot diff " + what);
  GitDiff diff(diff_raw);
  PatchSink sink{"", options.limits.max_patch_bytes};
  int rc = git_diff_print(diff_raw, GIT_DIFF_FORMAT_PATCH, print_line, &sink);
  if (sink.over) {
    result.refused = true;
    result.refused_reason = "the patch is over " + std::to_string(options.limits.max_patch_bytes) + " bytes";
    return result;
  }
  check_git(rc, "cannot print the diff");
  result.patch = std::move(sink.text);
  return result;
}

Fd open_root(const std::string& dir) {
  Fd fd(open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd) throw std::runtime_error("cannot diff " + dir + ": no such directory");
  return fd;
}

}  // namespace

nlohmann::json WorkspaceDiffResult::audit() const {
  nlohmann::json a = nlohmann::json::object();
  if (refused) a["diff_refused"] = refused_reason;
  if (skipped_count) {
    a["skipped_special"] = skipped;
    a["skipped_special_count"] = skipped_count;
  }
  if (git_touched) a["git_touched"] = true;
  return a;
}

WorkspaceDiffResult directory_diff(const std::string& dir, const std::string& base_commit,
                                   const WorkspaceDiffOptions& options) {
  Level root;
  root.upper = open_root(dir);
  // The stat cache of the directory's own index (a regular file, checked through the dir fd),
  // else the objects repository's.
  std::string index;
  struct stat st;
  Fd git = open_dir_at(root.upper.fd, ".git");
  if (git && fstatat(git.fd, "index", &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode))
    index = "/proc/self/fd/" + std::to_string(git.fd) + "/index";
  else if (!options.objects_repo.empty())
    index = options.objects_repo + "/.git/index";
  std::string objects = git ? "/proc/self/fd/" + std::to_string(git.fd) + "/objects" : dir + "/.git/objects";
  return diff_tree(std::move(root), false, dir, options.objects_repo, objects, index, base_commit, options);
}

WorkspaceDiffResult upper_layer_diff(const std::string& upper, const std::string& lower,
                                     const std::string& base_commit, const WorkspaceDiffOptions& options) {
  Level root;
  root.upper = open_root(upper);
  root.lower = open_root(lower);
  return diff_tree(std::move(root), true, upper, lower, "", lower + "/.git/index", base_commit, options);
}

std::string workspace_diff(const std::string& dir, const std::string& base_commit, const WorkspaceDiffOptions& options) {
  WorkspaceDiffResult r = directory_diff(dir, base_commit, options);
  if (r.refused) throw WorkspaceDiffRefused("the diff of " + dir + " is refused: " + r.refused_reason);
  return r.patch;
}

}  // namespace swebox::tasks
