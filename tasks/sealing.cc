#include "tasks/sealing.h"

#include <chrono>
#include <map>
#include <mutex>
#include <sstream>

namespace swebox::tasks {

namespace {

std::string quoted(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

// git for the judge: no hooks, no fsmonitor, no global or system configuration, literal paths,
// no index refresh written back; with GIT_DIR at the pristine copy when there is one.
std::string git_prelude(const std::string& state_dir) {
  std::string p =
      "export HOME=/tmp GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null GIT_OPTIONAL_LOCKS=0 GIT_LITERAL_PATHSPECS=1\n"
      "unset GIT_INDEX_FILE GIT_OBJECT_DIRECTORY GIT_ALTERNATE_OBJECT_DIRECTORIES\n"
      "g() { git -c core.fsmonitor=false -c core.hooksPath=/dev/null -c core.quotepath=off -c core.untrackedCache=false "
      "-c safe.directory='*' \"$@\"; }\n"
      "cd /testbed || exit 90\n";
  p += "export GIT_DIR=" + quoted(state_dir + "/git") + " GIT_WORK_TREE=/testbed\n";
  return p;
}

sandbox::ExecResult run_script(sandbox::Sandbox& box, const std::string& script, double timeout_s = 300) {
  sandbox::ExecRequest req;
  req.argv = {"/bin/bash", "-c", script};
  req.cwd = "/testbed";
  req.timeout_s = timeout_s;
  return box.exec(req);
}

std::string failure(const char* what, const sandbox::ExecResult& r) {
  std::string detail = r.err.substr(0, 400);
  return std::string(what) + " (" + sandbox::to_string(r.reason) + ", status " + std::to_string(r.status()) + ")" +
         (detail.empty() ? "" : ": " + detail);
}

std::vector<std::string> split_nul(const std::string& s) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start < s.size()) {
    size_t end = s.find('\0', start);
    if (end == std::string::npos) end = s.size();
    if (end > start) out.push_back(s.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

struct Listed {
  TreeChange change;
  bool special = false;  // neither a regular file, a directory nor a symlink (a FIFO, a socket...)
};

// What the tree holds that the base commit does not, as `git status` sees it (ignored files too).
std::variant<std::vector<Listed>, std::string> list_changes(sandbox::Sandbox& box, const std::string& state_dir) {
  std::string script = git_prelude(state_dir) + R"SH(
set -o pipefail
g status --porcelain=v1 -z --untracked-files=all --ignored=traditional --no-renames | {
  while IFS= read -r -d '' e; do
    p=${e:3}; p=${p%/}
    if [ -L "$p" ]; then t=l; elif [ -d "$p" ]; then t=d; elif [ -f "$p" ]; then t=f; elif [ -e "$p" ]; then t=o; else t=-; fi
    printf '%s%s %s\0' "${e:0:2}" "$t" "$p"
  done
}
)SH";
  sandbox::ExecResult r = run_script(box, script);
  if (r.reason != sandbox::StopReason::exited || r.exit_code != 0) return failure("git status in the sandbox failed", r);
  if (r.out_truncated) return std::string("git status in the sandbox listed more than the output limit");
  std::vector<Listed> out;
  for (const auto& e : split_nul(r.out)) {
    if (e.size() < 5) continue;
    Listed l;
    std::string xy = e.substr(0, 2);
    char t = e[2];
    l.change.path = e.substr(4);
    l.change.symlink = t == 'l';
    l.change.directory = t == 'd';
    l.special = t == 'o';
    if (xy == "??" || xy == "!!") l.change.kind = TreeChange::Kind::added;
    else if (xy.find('D') != std::string::npos || t == '-') l.change.kind = TreeChange::Kind::deleted;
    else if (xy.find('T') != std::string::npos) l.change.kind = TreeChange::Kind::type_changed;
    else l.change.kind = TreeChange::Kind::modified;
    out.push_back(std::move(l));
  }
  return out;
}

// Every path the base commit tracks.
std::variant<std::set<std::string>, std::string> base_files(sandbox::Sandbox& box, const std::string& state_dir) {
  sandbox::ExecResult r = run_script(box, git_prelude(state_dir) + "g ls-tree -r -z --name-only HEAD\n");
  if (r.reason != sandbox::StopReason::exited || r.exit_code != 0) return failure("git ls-tree in the sandbox failed", r);
  auto names = split_nul(r.out);
  return std::set<std::string>(names.begin(), names.end());
}

constexpr size_t kConfigLimit = 1 << 20;

// A file's content in the tree (at most kConfigLimit + 1 bytes), or at the base commit.
std::optional<std::string> tree_file(sandbox::Sandbox& box, const std::string& path) {
  sandbox::ExecResult r = run_script(box, "head -c " + std::to_string(kConfigLimit + 1) + " -- " + quoted("/testbed/" + path), 30);
  if (r.reason != sandbox::StopReason::exited || r.exit_code != 0) return std::nullopt;
  return r.out;
}
std::optional<std::string> base_file(sandbox::Sandbox& box, const std::string& state_dir, const std::string& path) {
  sandbox::ExecResult r =
      run_script(box, git_prelude(state_dir) + "g cat-file blob " + quoted("HEAD:" + path) + " | head -c " +
                          std::to_string(kConfigLimit + 1) + "\n", 30);
  if (r.reason != sandbox::StopReason::exited) return std::nullopt;
  return r.out;
}

// How a changed setup.cfg or pyproject.toml splits; unreadable or over 1 MiB = the whole file.
ConfigSplit config_split(sandbox::Sandbox& box, const std::string& state, const std::set<std::string>& base,
                         const TreeChange& c) {
  std::optional<std::string> now = c.kind == TreeChange::Kind::deleted ? std::optional<std::string>("") : tree_file(box, c.path);
  std::optional<std::string> was = base.count(c.path) ? base_file(box, state, c.path) : std::optional<std::string>("");
  if (!now || !was || now->size() > kConfigLimit || was->size() > kConfigLimit) {
    ConfigSplit whole;
    whole.outcome = ConfigSplit::Outcome::whole_file;
    whole.why = "test runner configuration that could not be read (or over 1 MiB): the whole file's change was reset";
    return whole;
  }
  return split_config_change(c.path, *was, *now);
}

nlohmann::json entry(const TreeChange& c, const std::string& why, const char* part) {
  return {{"path", c.path}, {"change", to_string(c.kind)}, {"why", why}, {"part", part}};
}

}  // namespace

std::string prepare_sealing(sandbox::Sandbox& box, const std::string& state_dir) {
  sandbox::ExecResult r = run_script(box, "set -e; umask 077; mkdir -p " + quoted(state_dir) + "; cp -a /testbed/.git " +
                                              quoted(state_dir + "/git") + "\n");
  if (r.reason != sandbox::StopReason::exited || r.exit_code != 0)
    return failure("could not copy /testbed/.git before applying the patch", r);
  return "";
}

std::set<std::string> outside_modules(sandbox::Sandbox& box, const std::string& interpreter) {
  static std::mutex mu;
  static std::map<std::string, std::set<std::string>> cache;
  {
    std::lock_guard lock(mu);
    if (auto it = cache.find(interpreter); it != cache.end()) return it->second;
  }
  sandbox::ExecRequest req;
  req.argv = {interpreter.empty() ? "python3" : interpreter, "-I", "-c",
              "import sys, pkgutil\n"
              "names = set(getattr(sys, 'stdlib_module_names', ())) | set(sys.builtin_module_names)\n"
              "names |= {m.name for m in pkgutil.iter_modules()}\n"
              "print('\\n'.join(sorted(names)))\n"};
  req.cwd = "/tmp";
  req.timeout_s = 60;
  sandbox::ExecResult r = box.exec(req);
  std::set<std::string> names;
  if (r.reason == sandbox::StopReason::exited && r.exit_code == 0) {
    std::istringstream in(r.out);
    for (std::string l; std::getline(in, l);)
      if (!l.empty()) names.insert(l);
    std::lock_guard lock(mu);
    cache[interpreter] = names;
  }
  return names;
}

TreeVerdict examine_tree(sandbox::Sandbox& box, TreeExamination request) {
  TreeVerdict v;
  auto t0 = std::chrono::steady_clock::now();
  auto step = [&](const char* name) {
    auto now = std::chrono::steady_clock::now();
    v.steps_ms[name] = std::chrono::duration<double, std::milli>(now - t0).count();
    t0 = now;
  };
  const std::string& state = request.state_dir;
  auto listed = list_changes(box, state);
  step("list");
  if (auto* err = std::get_if<std::string>(&listed)) {
    v.error = *err;
    return v;
  }
  auto tracked = base_files(box, state);
  if (auto* err = std::get_if<std::string>(&tracked)) {
    v.error = *err;
    return v;
  }
  const std::set<std::string>& base = std::get<std::set<std::string>>(tracked);
  step("base_files");
  request.context.base_has_file = [&base](const std::string& p) { return base.count(p) > 0; };

  std::string remove, restore;  // NUL-separated lists for the sealing script
  std::vector<std::pair<std::string, std::string>> rewrites;  // path -> content (test sections put back)
  for (const Listed& l : std::get<std::vector<Listed>>(listed)) {
    const TreeChange& c = l.change;
    auto put_back = [&](const std::string& why, const char* part) {
      v.entries.push_back(entry(c, why, part));
      (base.count(c.path) ? restore : remove) += c.path + '\0';
    };
    if (l.special) {
      put_back("not a regular file, a directory or a symbolic link", "file");
      continue;
    }
    if (auto why = infrastructure_reason(c, request.context)) {
      put_back(why->why, "file");
      if (why->test_file) v.reset_files.push_back(c.path);
      continue;
    }
    if (is_sectioned_config(c.path)) {
      ConfigSplit split = config_split(box, state, base, c);
      if (split.outcome == ConfigSplit::Outcome::whole_file) {
        put_back(split.why, "file");
        continue;
      }
      if (split.outcome == ConfigSplit::Outcome::test_sections) {
        v.entries.push_back(entry(c, split.why, "test sections"));
        rewrites.emplace_back(c.path, split.merged);
        v.kept.push_back(c.path);
        continue;
      }
    }
    v.kept.push_back(c.path);
  }
  step("classify");

  // .git: the apply chain may rewrite the index and add objects (git apply --3way), which is not
  // flagged; anything else that differs from the copy taken before the patch was the patch (e.g. a
  // hook that the eval script's own `git checkout` would run).
  sandbox::ExecResult gd = run_script(box, "S=" + quoted(state) + R"SH(
if ! diff -rq --no-dereference -x index -x objects "$S/git" /testbed/.git >/dev/null 2>&1; then echo changed; fi
)SH");
  v.git_dir_changed = gd.out.find("changed") != std::string::npos;
  if (!request.seal) return v;

  // Put it all back: new paths removed, changed ones checked out from the base commit, test
  // sections rewritten, .git restored from the copy taken before the patch.
  if (auto err = box.write_file(state + "/remove", remove)) {
    v.error = "could not write the sealing lists: " + err->message;
    return v;
  }
  if (auto err = box.write_file(state + "/restore", restore)) {
    v.error = "could not write the sealing lists: " + err->message;
    return v;
  }
  std::string script = git_prelude(state) + "S=" + quoted(state) + R"SH(
while IFS= read -r -d '' p; do rm -rf -- "$p" || exit 91; done < "$S/remove"
while IFS= read -r -d '' p; do
  rm -rf -- "$p"
  g checkout -q HEAD -- "$p" || { echo "cannot restore $p from the base commit" >&2; exit 92; }
done < "$S/restore"
)SH";
  sandbox::ExecResult r = run_script(box, script);
  step("reset");
  if (r.reason != sandbox::StopReason::exited || r.exit_code != 0) {
    v.error = failure("could not put test infrastructure back", r);
    return v;
  }
  for (const auto& [path, content] : rewrites) {
    run_script(box, "rm -f -- " + quoted("/testbed/" + path) + "\n", 30);
    if (auto err = box.write_file("/testbed/" + path, content)) {
      v.error = "could not rewrite " + path + ": " + err->message;
      return v;
    }
  }
  r = run_script(box, "S=" + quoted(state) + R"SH(
# Either way .git is as it was before the patch afterwards.
if diff -rq --no-dereference -x index "$S/git" /testbed/.git >/dev/null 2>&1; then
  rm -f /testbed/.git/index && cp -a "$S/git/index" /testbed/.git/index || exit 93
else
  rm -rf /testbed/.git && cp -a "$S/git" /testbed/.git || exit 93
fi
)SH");
  if (r.reason != sandbox::StopReason::exited || r.exit_code != 0) {
    v.error = failure("could not restore /testbed/.git", r);
    return v;
  }
  step("restore_git");

  // Check: nothing that is infrastructure is left changed.
  auto again = list_changes(box, state);
  step("recheck");
  if (auto* err = std::get_if<std::string>(&again)) {
    v.error = *err;
    return v;
  }
  for (const Listed& l : std::get<std::vector<Listed>>(again)) {
    bool bad = l.special || infrastructure_reason(l.change, request.context).has_value();
    if (!bad && is_sectioned_config(l.change.path))
      bad = config_split(box, state, base, l.change).outcome != ConfigSplit::Outcome::no_test_change;
    if (bad) {
      v.error = "after sealing, " + l.change.path + " is still changed";
      return v;
    }
  }
  return v;
}

}  // namespace swebox::tasks
