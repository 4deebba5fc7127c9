#include "tasks/patch_apply.h"

#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <optional>
#include <sstream>

#include "tasks/repository.h"

namespace swebox::tasks {
namespace fs = std::filesystem;
namespace {

struct HunkLine {
  char origin;  // ' ', '-', '+'
  std::string text;  // with its '\n' unless it ends a file without one
};
struct Hunk {
  size_t old_start;  // 1-based; 0 for an empty old side
  std::vector<HunkLine> lines;
};
struct FilePatch {
  std::string old_path, new_path;  // "" for /dev/null
  bool binary = false;
  uint32_t new_mode = 0;
  std::vector<Hunk> hunks;
};

using GitPatch = std::unique_ptr<git_patch, GitFree<git_patch, git_patch_free>>;

// A path the patch names must stay inside the tree it is applied to: the lenient applier joins it
// to the directory (an absolute path would replace the directory, ".." would climb out of it).
void check_path(const char* path) {
  std::string_view p(path ? path : "");
  bool bad = p.empty() || p.front() == '/';
  for (size_t start = 0; !bad && start <= p.size();) {
    size_t end = std::min(p.find('/', start), p.size());
    bad = p.substr(start, end - start) == "..";
    start = end + 1;
  }
  if (bad) throw PatchError("the patch names the path \"" + std::string(p) + "\", which is not inside the tree");
}

// git writes each extended header line (rename from, similarity index, old mode, ...) at most once
// per file diff. libgit2 1.5 leaks the first value when one repeats and the parse then fails (found
// by fuzz/patch_apply), so a repeated one is refused before libgit2 sees the text.
void check_headers_once(const std::string& text) {
  static const char* const kHeaders[] = {"old mode ",    "new mode ",        "deleted file mode ", "new file mode ",
                                         "rename from ", "rename to ",       "copy from ",         "copy to ",
                                         "similarity index ", "dissimilarity index ", "index "};
  std::vector<bool> seen(std::size(kHeaders));
  bool in_header = false;
  for (size_t start = 0; start < text.size();) {
    size_t end = std::min(text.find('\n', start), text.size());
    std::string_view line(text.data() + start, end - start);
    start = end + 1;
    if (line.rfind("diff --git ", 0) == 0) {
      in_header = true;
      std::fill(seen.begin(), seen.end(), false);
      continue;
    }
    if (!in_header) continue;
    if (line.rfind("@@", 0) == 0 || line.rfind("--- ", 0) == 0 || line.rfind("Binary files", 0) == 0) {
      in_header = false;  // the header ends where the hunks (or the file names before them) start
      continue;
    }
    for (size_t i = 0; i < std::size(kHeaders); ++i)
      if (line.rfind(kHeaders[i], 0) == 0) {
        if (seen[i])
          throw PatchError("the patch repeats the header line \"" + std::string(kHeaders[i]) +
                           "...\" in one file diff (git writes each once)");
        seen[i] = true;
      }
  }
}

std::vector<FilePatch> parse_patch(const std::string& text) {
  init_libgit2();
  if (text.find_first_not_of(" \t\r\n") == std::string::npos) throw PatchError("the patch is empty");
  // A text patch holds no NUL byte (git's binary patches are base85). libgit2 1.5's patch parser
  // reads past its buffer on a hunk line holding one (found by fuzz/patch_apply), so such text is
  // refused before libgit2 sees it.
  if (text.find('\0') != std::string::npos) throw PatchError("the patch holds a NUL byte (not a text patch)");
  check_headers_once(text);
  git_diff* raw = nullptr;
  if (git_diff_from_buffer(&raw, text.data(), text.size()) < 0) {
    const git_error* e = git_error_last();
    throw PatchError(std::string("the patch is not a git-style unified diff (") +
                     (e && e->message ? e->message : "unparseable") + ")");
  }
  GitDiff diff(raw);
  std::vector<FilePatch> files;
  for (size_t i = 0; i < git_diff_num_deltas(raw); ++i) {
    git_patch* p = nullptr;
    check_git(git_patch_from_diff(&p, raw, i), "cannot read file diff " + std::to_string(i + 1) + " of the patch");
    GitPatch patch(p);
    const git_diff_delta* d = git_patch_get_delta(p);
    FilePatch f;
    if (d->status != GIT_DELTA_ADDED) check_path(d->old_file.path), f.old_path = d->old_file.path;
    if (d->status != GIT_DELTA_DELETED) check_path(d->new_file.path), f.new_path = d->new_file.path;
    f.binary = d->flags & GIT_DIFF_FLAG_BINARY;
    f.new_mode = d->new_file.mode;
    for (size_t h = 0; h < git_patch_num_hunks(p); ++h) {
      const git_diff_hunk* hunk = nullptr;
      size_t n = 0;
      check_git(git_patch_get_hunk(&hunk, &n, p, h), "cannot read a hunk");
      Hunk out{static_cast<size_t>(hunk->old_start), {}};
      for (size_t l = 0; l < n; ++l) {
        const git_diff_line* line = nullptr;
        check_git(git_patch_get_line_in_hunk(&line, p, h, l), "cannot read a hunk line");
        if (line->origin == GIT_DIFF_LINE_CONTEXT || line->origin == GIT_DIFF_LINE_ADDITION ||
            line->origin == GIT_DIFF_LINE_DELETION)
          out.lines.push_back({line->origin, std::string(line->content, line->content_len)});
        else if (!out.lines.empty() && !out.lines.back().text.empty() && out.lines.back().text.back() == '\n')
          out.lines.back().text.pop_back();  // "\ No newline at end of file" belongs to the line before
      }
      f.hunks.push_back(std::move(out));
    }
    files.push_back(std::move(f));
  }
  if (files.empty()) throw PatchError("the patch holds no file diffs (expected lines like \"diff --git a/x b/x\")");
  return files;
}

std::vector<std::string> split_lines(const std::string& s) {
  std::vector<std::string> lines;
  size_t start = 0;
  while (start < s.size()) {
    size_t nl = s.find('\n', start);
    size_t end = nl == std::string::npos ? s.size() : nl + 1;
    lines.push_back(s.substr(start, end - start));
    start = end;
  }
  return lines;
}

std::string collapse_space(const std::string& s) {
  std::string out;
  bool space = false;
  for (char c : s) {
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v') {
      space = true;
    } else {
      if (space && !out.empty()) out += ' ';
      out += c;
      space = false;
    }
  }
  return out;
}

enum class Level { exact, offset, whitespace, fuzz };

struct Try {
  Level level;
  int fuzz = 0;
};

bool lines_equal(const std::string& a, const std::string& b, Level level) {
  return level == Level::exact || level == Level::offset ? a == b : collapse_space(a) == collapse_space(b);
}

// Applies one file's hunks to `old_text`; nullopt when a hunk finds no place.
std::optional<std::string> apply_hunks(const std::string& old_text, const std::vector<Hunk>& hunks, Try t,
                                       std::string& why) {
  auto file = split_lines(old_text);
  std::vector<std::string> out;
  size_t cursor = 0;  // first file line not yet copied
  for (size_t hi = 0; hi < hunks.size(); ++hi) {
    const Hunk& hunk = hunks[hi];
    // Fuzz drops leading and trailing context lines from the match (they are kept from the file).
    size_t lead = 0, trail = 0;
    if (t.level == Level::fuzz) {
      while (lead < static_cast<size_t>(t.fuzz) && lead < hunk.lines.size() && hunk.lines[lead].origin == ' ') ++lead;
      while (trail < static_cast<size_t>(t.fuzz) && trail + lead < hunk.lines.size() &&
             hunk.lines[hunk.lines.size() - 1 - trail].origin == ' ')
        ++trail;
    }
    std::vector<const HunkLine*> body;
    for (size_t i = lead; i < hunk.lines.size() - trail; ++i) body.push_back(&hunk.lines[i]);
    std::vector<const std::string*> pre;
    for (auto* l : body)
      if (l->origin != '+') pre.push_back(&l->text);

    long expected = static_cast<long>(hunk.old_start == 0 ? 0 : hunk.old_start - 1) + static_cast<long>(lead);
    auto matches_at = [&](size_t pos) {
      if (pos + pre.size() > file.size()) return false;
      for (size_t i = 0; i < pre.size(); ++i)
        if (!lines_equal(file[pos + i], *pre[i], t.level)) return false;
      return true;
    };
    std::optional<size_t> found;
    if (t.level == Level::exact) {
      if (expected >= static_cast<long>(cursor) && matches_at(expected)) found = expected;
    } else {
      long limit = static_cast<long>(file.size());
      for (long d = 0; !found && d <= limit; ++d)
        for (long cand : {expected + d, expected - d})
          if (cand >= static_cast<long>(cursor) && cand <= limit && matches_at(cand)) {
            found = cand;
            break;
          }
    }
    if (!found) {
      why = "hunk " + std::to_string(hi + 1) + " (at line " + std::to_string(hunk.old_start) + ") does not match";
      return std::nullopt;
    }
    out.insert(out.end(), file.begin() + cursor, file.begin() + *found);
    size_t pos = *found;
    for (auto* l : body) {
      if (l->origin == ' ') out.push_back(file[pos++]);
      else if (l->origin == '-') ++pos;
      else out.push_back(l->text);
    }
    cursor = pos;
  }
  out.insert(out.end(), file.begin() + cursor, file.end());
  std::string text;
  for (auto& l : out) text += l;
  return text;
}

std::string read_text(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string try_name(Try t) {
  switch (t.level) {
    case Level::exact: return "exact";
    case Level::offset: return "offset";
    case Level::whitespace: return "whitespace";
    case Level::fuzz: return "fuzz " + std::to_string(t.fuzz);
  }
  return "";
}

struct Planned {
  std::map<std::string, std::optional<std::string>> writes;  // path -> new text (nullopt = delete)
  std::map<std::string, uint32_t> modes;
};

// Computes every file's result in memory; false (with `why`) when any file fails.
bool plan(const fs::path& root, const std::vector<FilePatch>& files, Try t, bool reverse, Planned& out,
          std::string& why) {
  for (const auto& f0 : files) {
    FilePatch f = f0;
    if (reverse) {
      std::swap(f.old_path, f.new_path);
      for (auto& h : f.hunks) {
        size_t new_start = h.old_start;  // reversed hunks state their position in the new side;
        for (auto& l : h.lines)          // the search tolerates the difference
          l.origin = l.origin == '+' ? '-' : l.origin == '-' ? '+' : ' ';
        h.old_start = new_start;
      }
    }
    const std::string& name = f.new_path.empty() ? f.old_path : f.new_path;
    if (f.binary) {
      why = name + ": binary diff (only git apply handles those)";
      return false;
    }
    std::string old_text;
    if (!f.old_path.empty()) {
      fs::path p = root / f.old_path;
      if (!fs::exists(fs::symlink_status(p))) {
        why = f.old_path + ": no such file";
        return false;
      }
      auto it = out.writes.find(f.old_path);
      old_text = it != out.writes.end() && it->second ? *it->second : read_text(p);
    } else if (fs::exists(fs::symlink_status(root / f.new_path))) {
      why = f.new_path + ": already exists";
      return false;
    }
    auto new_text = apply_hunks(old_text, f.hunks, t, why);
    if (!new_text) {
      why = name + ": " + why;
      return false;
    }
    if (f.new_path.empty()) {
      if (!new_text->empty() && t.level != Level::fuzz) {
        why = f.old_path + ": the file to delete has other content";
        return false;
      }
      out.writes[f.old_path] = std::nullopt;
    } else {
      if (!f.old_path.empty() && f.old_path != f.new_path) out.writes[f.old_path] = std::nullopt;
      out.writes[f.new_path] = *new_text;
      if (!reverse && f.new_mode) out.modes[f.new_path] = f.new_mode;
    }
  }
  return true;
}

void commit(const fs::path& root, const Planned& p, std::vector<std::string>& files) {
  for (const auto& [path, text] : p.writes) {
    fs::path full = root / path;
    files.push_back(path);
    if (!text) {
      fs::remove(full);
      continue;
    }
    fs::create_directories(full.parent_path());
    std::ofstream(full, std::ios::binary | std::ios::trunc) << *text;
    if (auto m = p.modes.find(path); m != p.modes.end())
      chmod(full.c_str(), (m->second & 0111) ? 0755 : 0644);
  }
}

// libgit2's own apply, strict, into the work tree; "" on success, else why not.
std::string libgit2_apply(const std::string& dir, const std::string& patch) {
  git_repository* raw = nullptr;
  if (git_repository_open_ext(&raw, dir.c_str(), GIT_REPOSITORY_OPEN_NO_SEARCH, nullptr) < 0)
    return "not a git work tree";
  GitRepository repo(raw);
  if (git_repository_is_bare(raw)) return "a bare repository";
  git_diff* d = nullptr;
  check_git(git_diff_from_buffer(&d, patch.data(), patch.size()), "cannot parse the patch");
  GitDiff diff(d);
  if (git_apply(raw, d, GIT_APPLY_LOCATION_WORKDIR, nullptr) < 0) {
    const git_error* e = git_error_last();
    return e && e->message ? e->message : "failed";
  }
  return "";
}

}  // namespace

std::vector<std::string> patch_files(const std::string& patch) {
  std::vector<std::string> out;
  for (const auto& f : parse_patch(patch))
    for (const auto* p : {&f.old_path, &f.new_path})
      if (!p->empty() && std::find(out.begin(), out.end(), *p) == out.end()) out.push_back(*p);
  return out;
}

ApplyResult apply_patch(const std::string& dir, const std::string& patch, int max_fuzz) {
  auto files = parse_patch(patch);
  ApplyResult result;
  if (!fs::is_directory(dir)) throw std::invalid_argument("cannot apply a patch in " + dir + ": no such directory");

  std::string why = libgit2_apply(dir, patch);
  if (why.empty()) {
    result.applied = true;
    result.strategy = "git apply";
    result.log = "git apply: applied\n";
    result.files = patch_files(patch);
    return result;
  }
  result.log = "git apply: " + why + "\n";

  std::vector<Try> tries{{Level::exact}, {Level::offset}, {Level::whitespace}};
  for (int f = 1; f <= max_fuzz; ++f) tries.push_back({Level::fuzz, f});
  for (Try t : tries) {
    Planned p;
    if (plan(dir, files, t, false, p, why)) {
      commit(dir, p, result.files);
      result.applied = true;
      result.strategy = try_name(t);
      result.log += try_name(t) + ": applied\n";
      return result;
    }
    result.log += try_name(t) + ": " + why + "\n";
  }
  Planned reverse;
  if (plan(dir, files, {Level::offset}, true, reverse, why)) {
    result.already_applied = true;
    result.strategy = "already applied";
    result.log += "reverse: applies, so the patch is already applied\n";
  } else {
    result.log += "reverse: " + why + "\n";
  }
  return result;
}

std::string apply_patch_script(const std::string& patch_path, const std::string& workdir) {
  auto quote = [](const std::string& s) {
    std::string q = "'";
    for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return q + "'";
  };
  return "#!/bin/bash\n"
         "# Applies a patch as SWE-bench's harness does (docs/formats.md §4.2); the last line says how.\n"
         "patch_file=" + quote(patch_path) + "\n"
         "cd " + quote(workdir) + " || { echo '>>>>> Patch Apply Failed'; exit 1; }\n" +
         R"SH(if [ ! -s "$patch_file" ]; then echo "no patch at $patch_file"; echo '>>>>> Patch Apply Failed'; exit 1; fi
# The files the patch names; only they are restored between tries, so other work in the tree stays.
mapfile -t touched < <(sed -n -e 's|^diff --git a/\(.*\) b/\(.*\)$|\1\n\2|p' -e 's|^[-+][-+][-+] [ab]/\([^	]*\).*$|\1|p' "$patch_file" | sort -u)
saved=$(mktemp -d)
for f in "${touched[@]}"; do
  if [ -e "$f" ] || [ -L "$f" ]; then mkdir -p "$saved/tree/$(dirname "$f")" && cp -a "$f" "$saved/tree/$f"; fi
done
restore() {
  for f in "${touched[@]}"; do
    rm -rf "$f" "$f.rej" "$f.orig"
    if [ -e "$saved/tree/$f" ] || [ -L "$saved/tree/$f" ]; then mkdir -p "$(dirname "$f")" && cp -a "$saved/tree/$f" "$f"; fi
    git reset -q -- "$f" 2>/dev/null
  done
}
attempt() {
  local name=$1; shift
  echo ">>> trying: $name"
  if "$@" "$patch_file"; then rm -rf "$saved"; echo ">>>>> Applied Patch ($name)"; exit 0; fi
  restore
}
attempt "git apply --verbose" git apply --verbose
attempt "git apply --verbose --3way" git apply --verbose --3way
attempt "git apply --verbose --reject" git apply --verbose --reject
attempt "patch --batch --forward --fuzz=5 -p1" patch --batch --forward --fuzz=5 -p1 -i
rm -rf "$saved"
if git apply --check --reverse "$patch_file" 2>/dev/null; then
  echo '>>>>> Patch Already Applied'; exit 0
fi
echo '>>>>> Patch Apply Failed'
exit 1
)SH";
}

ApplyResult parse_apply_script_output(const std::string& output) {
  ApplyResult r;
  r.log = output;
  const std::string applied = ">>>>> Applied Patch (";
  if (auto at = output.rfind(applied); at != std::string::npos) {
    r.applied = true;
    size_t start = at + applied.size();
    r.strategy = output.substr(start, output.find(')', start) - start);
  } else if (output.find(">>>>> Patch Already Applied") != std::string::npos) {
    r.already_applied = true;
    r.strategy = "already applied";
  }
  return r;
}

}  // namespace swebox::tasks
