#include "tasks/bug_validation.h"

#include <algorithm>
#include <set>

#include "tasks/patch_apply.h"

namespace swebox::tasks {

namespace {

std::string list_some(const std::vector<std::string>& items, size_t most = 5) {
  std::string s;
  for (size_t i = 0; i < items.size() && i < most; ++i) s += (i ? ", " : "") + items[i];
  if (items.size() > most) s += ", ... (" + std::to_string(items.size()) + " in all)";
  return s;
}

}  // namespace

const char* to_string(BugCheck check) {
  switch (check) {
    case BugCheck::test_files: return "test_files";
    case BugCheck::parser: return "parser";
    case BugCheck::original_passing: return "original_passing";
    case BugCheck::changed_files: return "changed_files";
    case BugCheck::bug_breaks_tests: return "bug_breaks_tests";
    case BugCheck::weakening_hides: return "weakening_hides";
    case BugCheck::inverse_mutation: return "inverse_mutation";
  }
  return "?";
}

BugValidation validate_bug_artifact(const BugArtifact& artifact, BugTestRunner& runner,
                                    const BugValidationOptions& options,
                                    const std::function<bool(const std::string&)>& original_has_file) {
  BugValidation v;
  for (int i = 0; i < kBugCheckCount; ++i) v.checks.push_back({static_cast<BugCheck>(i), "not run", ""});
  auto pass = [&](BugCheck c, std::string detail) {
    v.checks[static_cast<int>(c)].status = "passed";
    v.checks[static_cast<int>(c)].detail = std::move(detail);
  };
  auto reject = [&](BugCheck c, std::string detail) {
    v.checks[static_cast<int>(c)].status = "failed";
    v.checks[static_cast<int>(c)].detail = detail;
    v.rejection = c;
    v.reason = std::move(detail);
    v.pass_to_pass.clear();
    return v;
  };
  auto infra = [&](const BugTestRun& run) {
    v.infra_failure = true;
    v.infra_reason = run.infra_reason;
    return v;
  };
  auto count_run = [&](const BugTestRun& run) {
    ++v.test_runs;
    if (run.cached) ++v.cached_runs;
  };
  // A run's parser verdicts, or the parser check's rejection.
  auto usable = [&](const BugTestRun& run, const std::string& which) -> std::string {
    if (run.timed_out)
      return std::string("the test script timed out on ") + which + " (" +
             std::to_string(static_cast<int>(runner.options().script_timeout_s)) + " s cap)";
    if (!run.results) return "on " + which + ": " + run.parse_error;
    return "";
  };

  // 1. Test files.
  std::vector<std::string> weakened;
  try {
    if (!artifact.weaken_diff.empty()) weakened = patch_files(artifact.weaken_diff);
  } catch (const std::exception& e) {
    return reject(BugCheck::test_files, std::string("test_weaken.diff is not a patch: ") + e.what());
  }
  if (artifact.test_files.empty()) return reject(BugCheck::test_files, "test_files.txt lists no file");
  for (const auto& f : artifact.test_files) {
    if (!is_safe_repo_path(f)) return reject(BugCheck::test_files, "test_files.txt: not a path in the repository: " + f);
    if (!original_has_file(f)) return reject(BugCheck::test_files, "test file " + f + " does not exist in the original");
  }
  std::set<std::string> listed(artifact.test_files.begin(), artifact.test_files.end());
  for (const auto& f : weakened)
    if (f != "/dev/null" && !listed.count(f))
      return reject(BugCheck::test_files, "test_weaken.diff changes " + f + ", which test_files.txt does not list");
  pass(BugCheck::test_files, std::to_string(artifact.test_files.size()) + " test files, covering the " +
                                 std::to_string(weakened.size()) + " the weakening changes");

  // 4 before any run (it needs none): the bug's files. Reported in its own place.
  std::vector<std::string> bug_files;
  std::string changed_files_problem;
  try {
    bug_files = patch_files(artifact.bug_diff);
  } catch (const std::exception& e) {
    changed_files_problem = std::string("bug_inject.diff is not a patch: ") + e.what();
  }
  bug_files.erase(std::remove(bug_files.begin(), bug_files.end(), "/dev/null"), bug_files.end());
  if (changed_files_problem.empty()) {
    for (const auto& f : bug_files) {
      if (!is_safe_repo_path(f)) changed_files_problem = "bug_inject.diff: not a path in the repository: " + f;
      else if (listed.count(f) || looks_like_test_file(f))
        changed_files_problem = "bug_inject.diff changes the test file " + f + " (the bug must touch code files only)";
      if (!changed_files_problem.empty()) break;
    }
  }
  if (changed_files_problem.empty() && static_cast<int>(bug_files.size()) < options.min_changed_files)
    changed_files_problem = "the bug changes " + std::to_string(bug_files.size()) + " file(s), fewer than " +
                            std::to_string(options.min_changed_files);

  // 2. The parser, on the original.
  BugTestRun original = runner.run(artifact, {});
  count_run(original);
  if (original.infra_failure) return infra(original);
  if (!original.setup_error.empty()) return reject(BugCheck::parser, original.setup_error);
  if (std::string why = usable(original, "the original"); !why.empty()) return reject(BugCheck::parser, why);
  pass(BugCheck::parser, std::to_string(original.results->size()) + " tests reported on the original");

  // 3. Enough tests pass on the original.
  size_t passing = original.passed_count();
  if (static_cast<int>(passing) < options.min_passing_tests)
    return reject(BugCheck::original_passing, std::to_string(passing) + " tests pass on the original, fewer than " +
                                                  std::to_string(options.min_passing_tests));
  pass(BugCheck::original_passing, std::to_string(passing) + " of " + std::to_string(original.results->size()) +
                                       " tests pass on the original");

  // 4. The bug's files.
  if (!changed_files_problem.empty()) return reject(BugCheck::changed_files, changed_files_problem);
  pass(BugCheck::changed_files, "the bug changes " + list_some(bug_files));

  // 5. The bug breaks tests that passed.
  BugTestRun buggy = runner.run(artifact, {true, false, {}});
  count_run(buggy);
  if (buggy.infra_failure) return infra(buggy);
  if (!buggy.setup_error.empty())
    return reject(BugCheck::bug_breaks_tests, "bug_inject.diff does not apply to the original: " + buggy.setup_error);
  if (buggy.timed_out) return reject(BugCheck::bug_breaks_tests, usable(buggy, "the bug"));
  if (!buggy.results) return reject(BugCheck::parser, usable(buggy, "the bug"));
  std::vector<std::string> broken;
  for (const auto& [id, ok] : *original.results) {
    if (!ok) continue;
    if (buggy.passed(id)) v.pass_to_pass.push_back(id);
    else broken.push_back(id);
  }
  if (static_cast<int>(broken.size()) < options.min_failing_tests)
    return reject(BugCheck::bug_breaks_tests, std::to_string(broken.size()) +
                                                  " tests that pass on the original fail with the bug, fewer than " +
                                                  std::to_string(options.min_failing_tests));
  pass(BugCheck::bug_breaks_tests, std::to_string(broken.size()) + " tests break: " + list_some(broken));

  // 6. The weakening hides some of them.
  BugTestRun weak = runner.run(artifact, {true, true, {}});
  count_run(weak);
  if (weak.infra_failure) return infra(weak);
  if (!weak.setup_error.empty())
    return reject(BugCheck::weakening_hides, "test_weaken.diff does not apply after the bug: " + weak.setup_error);
  if (weak.timed_out) return reject(BugCheck::weakening_hides, usable(weak, "the weakened bug"));
  if (!weak.results) return reject(BugCheck::parser, usable(weak, "the weakened bug"));
  std::vector<std::string> hidden;
  for (const auto& id : broken)
    if (weak.passed(id) || !weak.results->count(id)) hidden.push_back(id);
  if (hidden.empty())
    return reject(BugCheck::weakening_hides, "none of the " + std::to_string(broken.size()) +
                                                 " tests the bug breaks passes or is removed after the weakening");
  pass(BugCheck::weakening_hides, std::to_string(hidden.size()) + " of the broken tests hidden: " + list_some(hidden));

  // 7. Inverse mutation: every file of the bug matters.
  for (const auto& f : bug_files) {
    BugTestRun reverted = runner.run(artifact, {true, false, {f}});
    count_run(reverted);
    if (reverted.infra_failure) return infra(reverted);
    if (!reverted.setup_error.empty()) return reject(BugCheck::inverse_mutation, reverted.setup_error);
    if (reverted.timed_out) return reject(BugCheck::inverse_mutation, usable(reverted, "the bug without " + f));
    if (!reverted.results) return reject(BugCheck::parser, usable(reverted, "the bug without " + f));
    bool some = std::any_of(broken.begin(), broken.end(), [&](const std::string& id) { return reverted.passed(id); });
    if (!some)
      return reject(BugCheck::inverse_mutation,
                    "reverting " + f + " alone makes none of the failing tests pass: it is not part of the bug");
  }
  pass(BugCheck::inverse_mutation, "each of the " + std::to_string(bug_files.size()) +
                                       " files, reverted alone, makes a failing test pass");
  v.fail_to_pass = broken;
  v.valid = true;
  return v;
}

nlohmann::json to_json(const BugValidation& v) {
  nlohmann::json checks = nlohmann::json::array();
  for (const auto& c : v.checks)
    checks.push_back({{"check", to_string(c.check)}, {"status", c.status}, {"detail", c.detail}});
  nlohmann::json j = {{"valid", v.valid},
                      {"rejection", v.rejection ? nlohmann::json(to_string(*v.rejection)) : nlohmann::json(nullptr)},
                      {"reason", v.reason},
                      {"checks", checks},
                      {"FAIL_TO_PASS", v.fail_to_pass},
                      {"PASS_TO_PASS", v.pass_to_pass},
                      {"test_runs", v.test_runs},
                      {"cached_runs", v.cached_runs}};
  if (v.infra_failure) j["infra_failure"] = v.infra_reason;
  return j;
}

}  // namespace swebox::tasks
