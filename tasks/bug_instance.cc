#include "tasks/bug_instance.h"

#include <algorithm>
#include <stdexcept>

#include "tasks/grading.h"
#include "tasks/patch_apply.h"
#include "tasks/repository.h"
#include "tasks/test_spec.h"

namespace swebox::tasks {

namespace {

using GitBuf = std::unique_ptr<git_buf, void (*)(git_buf*)>;

std::string quoted(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

GitDiff diff_from_text(const std::string& text, const std::string& what) {
  git_diff* d = nullptr;
  check_git(git_diff_from_buffer(&d, text.data(), text.size()), what + " is not a patch libgit2 reads");
  return GitDiff(d);
}

// `tree` with `patch` applied, as a tree in `repo`.
GitTree apply_to_tree(git_repository* repo, git_tree* tree, const std::string& patch, const std::string& what) {
  if (patch.empty()) {
    git_tree* copy = nullptr;
    check_git(git_tree_dup(&copy, tree), "tree");
    return GitTree(copy);
  }
  GitDiff diff = diff_from_text(patch, what);
  git_index* index = nullptr;
  check_git(git_apply_to_tree(&index, repo, tree, diff.get(), nullptr), what + " does not apply");
  GitIndex owned(index);
  git_oid oid;
  check_git(git_index_write_tree_to(&oid, index, repo), "writing the tree of " + what);
  git_tree* out = nullptr;
  check_git(git_tree_lookup(&out, repo, &oid), "tree");
  return GitTree(out);
}

// The diff from `from` to `to` on `paths` only, as git writes it.
std::string diff_text(git_repository* repo, git_tree* from, git_tree* to, const std::vector<std::string>& paths) {
  if (paths.empty()) return "";
  std::vector<char*> specs;
  for (const auto& p : paths) specs.push_back(const_cast<char*>(p.c_str()));
  git_diff_options opts = GIT_DIFF_OPTIONS_INIT;
  opts.pathspec.strings = specs.data();
  opts.pathspec.count = specs.size();
  opts.flags |= GIT_DIFF_DISABLE_PATHSPEC_MATCH;
  git_diff* d = nullptr;
  check_git(git_diff_tree_to_tree(&d, repo, from, to, &opts), "diff");
  GitDiff diff(d);
  git_buf buf = GIT_BUF_INIT;
  check_git(git_diff_to_buf(&buf, diff.get(), GIT_DIFF_FORMAT_PATCH), "diff text");
  std::string out(buf.ptr ? buf.ptr : "", buf.size);
  git_buf_dispose(&buf);
  return out;
}

std::vector<std::string> files_of(const std::string& patch) {
  if (patch.empty()) return {};
  auto files = patch_files(patch);
  files.erase(std::remove(files.begin(), files.end(), "/dev/null"), files.end());
  return files;
}

// SWE-bench's eval script shape: every oracle test file reset to the base, the test patch applied,
// the artifact's test script between the markers, the test files reset again.
std::string eval_script(const Instance& inst, const BugArtifact& artifact) {
  std::string files;
  for (const auto& f : artifact.test_files) files += " " + quoted(f);
  std::string s = "#!/bin/bash\nset -uxo pipefail\ncd /testbed\n";
  s += "git config --global --add safe.directory /testbed\n";
  s += "git checkout " + inst.base_commit + " --" + files + "\n";
  if (!inst.test_patch.empty())
    s += std::string("git apply -v - <<'") + kTestPatchHeredoc + "'\n" + inst.test_patch + "\n" + kTestPatchHeredoc + "\n";
  s += "cat > /tmp/.swebox-ssr-test.sh <<'EOF_SWEBOX_SSR_TEST_SCRIPT'\n" + artifact.test_script +
       (artifact.test_script.empty() || artifact.test_script.back() == '\n' ? "" : "\n") + "EOF_SWEBOX_SSR_TEST_SCRIPT\n";
  s += ": '" + std::string(kStartTestOutput) + "'\n";
  s += "bash /tmp/.swebox-ssr-test.sh\n";
  s += ": '" + std::string(kEndTestOutput) + "'\n";
  s += "git checkout " + inst.base_commit + " --" + files + "\n";
  return s;
}

}  // namespace

Instance make_bug_instance(const BugInstanceSpec& spec, const BugArtifact& artifact, const BugValidation& validation) {
  if (!validation.valid) throw std::invalid_argument("bug " + spec.bug_id + " is not valid: no instance");
  init_libgit2();
  GitRepository repo = open_repository(spec.repository_path);
  GitCommit original = find_commit(repo.get(), spec.original_commit);
  git_tree* t = nullptr;
  check_git(git_commit_tree(&t, original.get()), "the original's tree");
  GitTree original_tree(t);
  GitTree buggy = apply_to_tree(repo.get(), original_tree.get(), artifact.bug_diff, "bug_inject.diff");
  GitTree weakened = apply_to_tree(repo.get(), buggy.get(), artifact.weaken_diff, "test_weaken.diff");

  // A root commit with fixed, neutral metadata: nothing in it says where it came from.
  git_signature* sig = nullptr;
  check_git(git_signature_new(&sig, "swebox", "swebox@localhost", 0, 0), "signature");
  git_oid commit_oid;
  std::string ref = "refs/selfplay/" + spec.bug_id;
  int rc = git_commit_create(&commit_oid, repo.get(), nullptr, sig, sig, "UTF-8", "Initial commit\n", weakened.get(), 0,
                             nullptr);
  git_signature_free(sig);
  check_git(rc, "committing the buggy tree");
  git_reference* r = nullptr;
  check_git(git_reference_create(&r, repo.get(), ref.c_str(), &commit_oid, 1, "selfplay"), "creating " + ref);
  git_reference_free(r);

  nlohmann::json record;
  std::string dir_name = spec.repo;
  if (auto slash = dir_name.find('/'); slash != std::string::npos) dir_name.replace(slash, 1, "__");
  record["repo"] = spec.repo;
  record["instance_id"] = dir_name + "-" + spec.bug_id;
  record["base_commit"] = oid_hex(commit_oid);
  record["patch"] = diff_text(repo.get(), weakened.get(), original_tree.get(), files_of(artifact.bug_diff));
  record["test_patch"] = diff_text(repo.get(), weakened.get(), original_tree.get(), files_of(artifact.weaken_diff));
  std::string statement = spec.problem_template;
  const std::string test_patch = record["test_patch"];
  if (auto at = statement.find("{test_patch}"); at != std::string::npos) statement.replace(at, 12, test_patch);
  record["problem_statement"] = statement;
  record["version"] = spec.version;
  record["FAIL_TO_PASS"] = nlohmann::json(validation.fail_to_pass).dump();
  record["PASS_TO_PASS"] = nlohmann::json(validation.pass_to_pass).dump();
  record["log_parser"] = spec.log_parser;
  record["created_at"] = "";
  Instance inst = parse_instance(record);
  inst.eval_script = eval_script(inst, artifact);
  inst.raw["eval_script"] = inst.eval_script;
  return inst;
}

nlohmann::json instance_record(const Instance& inst) {
  nlohmann::json r = inst.raw;
  r["eval_script"] = inst.eval_script;
  return r;
}

}  // namespace swebox::tasks
