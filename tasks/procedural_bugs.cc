#include "tasks/procedural_bugs.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include <nlohmann/json.hpp>

#include "tasks/repository.h"

#ifndef SWEBOX_SOURCE_DIR
#define SWEBOX_SOURCE_DIR "."
#endif

namespace swebox::tasks {

namespace fs = std::filesystem;

namespace {

std::string read_source_file(const std::string& name) {
  std::string path = std::string(SWEBOX_SOURCE_DIR) + "/tasks/" + name;
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path + " (part of swebox's sources)");
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string quoted(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

}  // namespace

std::vector<std::string> procedural_strategies() {
  return {"op_change",    "op_swap",     "op_change_const", "op_break_chains", "remove_assign",  "remove_cond",
          "remove_loop",  "remove_wrapper", "ctrl_invert_if", "ctrl_shuffle",  "class_rm_funcs", "removal"};
}

std::vector<BugCandidate> procedural_candidates(BugTestRunner& runner, unsigned seed, int limit,
                                                const std::vector<std::string>& strategies) {
  std::string wanted;
  for (const auto& s : strategies) wanted += (wanted.empty() ? "" : ",") + s;
  sandbox::ExecResult r = runner.run_python_helper(read_source_file("procedural_mutations.py"),
                                                   {"mutate", "/testbed", std::to_string(seed), std::to_string(limit), wanted},
                                                   "");
  if (r.status() != 0)
    throw std::runtime_error("the procedural generator failed (status " + std::to_string(r.status()) + "): " +
                             r.err.substr(0, 2000));
  std::vector<BugCandidate> out;
  std::istringstream in(r.out);
  for (std::string line; std::getline(in, line);) {
    if (line.empty()) continue;
    auto j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_discarded() || !j.is_object()) throw std::runtime_error("the procedural generator wrote a bad line: " + line.substr(0, 200));
    out.push_back({j.value("strategy", ""), j.value("file", "") + ":" + j.value("function", "") + ":" +
                                                std::to_string(j.value("line", 0)),
                   j.value("diff", "")});
  }
  return out;
}

std::vector<BugCandidate> history_candidates(const std::string& repository_path, const std::string& original_commit,
                                             int limit) {
  init_libgit2();
  GitRepository repo = open_repository(repository_path);
  GitCommit original = find_commit(repo.get(), original_commit);
  git_tree* t = nullptr;
  check_git(git_commit_tree(&t, original.get()), "the original's tree");
  GitTree original_tree(t);

  git_revwalk* w = nullptr;
  check_git(git_revwalk_new(&w, repo.get()), "revwalk");
  GitRevwalk walk(w);
  git_revwalk_sorting(walk.get(), GIT_SORT_TOPOLOGICAL | GIT_SORT_TIME);
  check_git(git_revwalk_push(walk.get(), git_commit_id(original.get())), "revwalk");
  std::vector<BugCandidate> out;
  git_oid oid;
  while (static_cast<int>(out.size()) < limit && git_revwalk_next(&oid, walk.get()) == 0) {
    git_commit* c = nullptr;
    if (git_commit_lookup(&c, repo.get(), &oid) != 0) continue;
    GitCommit commit(c);
    if (git_commit_parentcount(commit.get()) != 1) continue;  // the root, merges
    git_index* index = nullptr;
    if (git_revert_commit(&index, repo.get(), commit.get(), original.get(), 0, nullptr) != 0) continue;
    GitIndex reverted(index);
    if (git_index_has_conflicts(reverted.get())) continue;
    git_oid tree_oid;
    if (git_index_write_tree_to(&tree_oid, reverted.get(), repo.get()) != 0) continue;
    git_tree* rt = nullptr;
    check_git(git_tree_lookup(&rt, repo.get(), &tree_oid), "tree");
    GitTree reverted_tree(rt);
    // The revert's code files only: its test changes are what the weakening decides.
    git_diff* d = nullptr;
    check_git(git_diff_tree_to_tree(&d, repo.get(), original_tree.get(), reverted_tree.get(), nullptr), "diff");
    GitDiff all(d);
    std::vector<std::string> code;
    for (size_t i = 0; i < git_diff_num_deltas(all.get()); ++i) {
      const git_diff_delta* delta = git_diff_get_delta(all.get(), i);
      std::string path = delta->new_file.path ? delta->new_file.path : delta->old_file.path;
      if (!looks_like_test_file(path) && path.size() > 3 && path.compare(path.size() - 3, 3, ".py") == 0)
        code.push_back(path);
    }
    if (code.empty()) continue;
    std::vector<char*> specs;
    for (const auto& p : code) specs.push_back(const_cast<char*>(p.c_str()));
    git_diff_options opts = GIT_DIFF_OPTIONS_INIT;
    opts.pathspec.strings = specs.data();
    opts.pathspec.count = specs.size();
    opts.flags |= GIT_DIFF_DISABLE_PATHSPEC_MATCH;
    check_git(git_diff_tree_to_tree(&d, repo.get(), original_tree.get(), reverted_tree.get(), &opts), "diff");
    GitDiff code_diff(d);
    git_buf buf = GIT_BUF_INIT;
    check_git(git_diff_to_buf(&buf, code_diff.get(), GIT_DIFF_FORMAT_PATCH), "diff text");
    std::string text(buf.ptr ? buf.ptr : "", buf.size);
    git_buf_dispose(&buf);
    std::string summary = git_commit_summary(commit.get()) ? git_commit_summary(commit.get()) : "";
    out.push_back({"history", "revert " + oid_hex(oid).substr(0, 12) + " " + summary, text});
  }
  return out;
}

std::vector<std::string> pytest_test_files(const std::string& tree) {
  std::vector<std::string> out;
  std::error_code ec;
  for (fs::recursive_directory_iterator it(tree, fs::directory_options::none, ec), end; it != end; it.increment(ec)) {
    if (ec) break;
    const std::string name = it->path().filename().string();
    if (it->is_directory() && (name == ".git" || name == "__pycache__")) {
      it.disable_recursion_pending();
      continue;
    }
    if (!it->is_regular_file()) continue;
    std::string rel = fs::relative(it->path(), tree).string();
    bool pytest_name = (name.rfind("test_", 0) == 0 && name.size() > 8 && name.compare(name.size() - 3, 3, ".py") == 0) ||
                       (name.size() > 8 && name.compare(name.size() - 8, 8, "_test.py") == 0);
    if (pytest_name && looks_like_test_file(rel)) out.push_back(rel);
  }
  std::sort(out.begin(), out.end());
  return out;
}

BugArtifact pytest_artifact(const std::vector<std::string>& test_files, const std::string& bug_diff) {
  BugArtifact a;
  a.test_files = test_files;
  // Third-party plugins are not auto-loaded: finding them scans every installed distribution's
  // entry points, a quarter of a toolz run's CPU here (scripts/bench-selfplay.sh), and a test that
  // needs one is no test of the repository's own code.
  a.test_script = "#!/bin/bash\n# The oracle tests, with pytest's summary of every test (-rA).\ncd /testbed\n"
                  "PYTEST_DISABLE_PLUGIN_AUTOLOAD=1 PYTHONPATH=/testbed python3 -m pytest -rA -p no:cacheprovider";
  for (const auto& f : test_files) a.test_script += " " + quoted(f);
  a.test_script += "\n";
  a.test_parser = read_source_file("pytest_rA_parser.py");
  a.bug_diff = bug_diff;
  return a;
}

std::string derive_weakening(BugTestRunner& runner, const std::vector<std::string>& broken,
                             std::vector<std::string>* unmatched) {
  sandbox::ExecResult r = runner.run_python_helper(read_source_file("procedural_mutations.py"), {"weaken", "/testbed"},
                                                   nlohmann::json(broken).dump());
  if (r.status() != 0)
    throw std::runtime_error("deriving the weakening failed (status " + std::to_string(r.status()) + "): " +
                             r.err.substr(0, 2000));
  auto j = nlohmann::json::parse(r.out, nullptr, false);
  if (j.is_discarded() || !j.is_object()) throw std::runtime_error("deriving the weakening: unreadable output");
  if (unmatched && j.contains("unmatched"))
    for (const auto& u : j["unmatched"]) unmatched->push_back(u.get<std::string>());
  return j.value("diff", "");
}

}  // namespace swebox::tasks
