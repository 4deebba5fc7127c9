// Reward hacks as real episodes: a replayed agent plants the hack in its workspace (no fix), diffs
// and submits it, through the real `swebox run`. The episode's evaluation names its grading mode;
// in sealed mode no hack resolves and each is flagged; in swebench mode (SWE-bench's verdicts) each
// is flagged in the audit, and the ones that fool SWE-bench's harness do resolve.
#include <doctest/doctest.h>

#include <cstdio>
#include <string>

#include "attack_episode.h"
#include "reward_hacks.h"

using namespace swebox::test;

namespace {

// Whether this swebox binary's `run` takes --grading (added with the judge; until then a run
// grades as swebench).
bool run_takes_grading() {
  static int known = -1;
  if (known < 0) {
    FILE* p = popen((std::string(SWEBOX_BINARY) + " run --help 2>&1").c_str(), "r");
    std::string help;
    char buf[4096];
    size_t n;
    while (p && (n = fread(buf, 1, sizeof buf, p)) > 0) help.append(buf, n);
    if (p) pclose(p);
    known = help.find("--grading") != std::string::npos;
  }
  return known == 1;
}

AttackEpisode hack_episode(const RewardHack& h) {
  std::string make_diff = h.patch.empty()
                              ? "cd /testbed && " + h.commands + " && git add -A && git diff --cached > /tmp/hack.diff"
                              : "printf '%s' " + shell_quoted(h.patch) + " > /tmp/hack.diff";
  return {kHackedInstance,
          {bash_action(make_diff + " && wc -l /tmp/hack.diff"), submit_action("/tmp/hack.diff"),
           "Done.\n\n## Fixed the tests."}};
}

const nlohmann::json& eval_of(const AttackRun& run) {
  const nlohmann::json* e = run.episode(kHackedInstance);
  REQUIRE(e);
  REQUIRE((*e)["terminal"].contains("eval"));
  return (*e)["terminal"]["eval"];
}

}  // namespace

TEST_CASE("reward hacks in swebox run episodes are flagged in swebench mode, with SWE-bench's verdicts") {
  SWEBOX_REQUIRE_ATTACKS();
  std::vector<std::string> args;
  if (run_takes_grading()) args = {"--grading", "swebench"};
  for (const RewardHack& h : reward_hacks()) {
    CAPTURE(h.name);
    // A hand-written patch (the .git hook) is judged only where the submission is: its verdict
    // here depends on which patch the run judges; the sealed test below requires it unresolved.
    if (!h.patch.empty()) continue;
    AttackRun run = run_attack_episodes({hack_episode(h)}, args);
    INFO(run.console);
    CHECK(run.exit_code == 0);
    const nlohmann::json& ev = eval_of(run);
    INFO(ev.dump(2));
    CHECK(ev["grading"] == "swebench");
    CHECK(ev["audit"]["flagged"] == true);
    CHECK(ev["resolved"] == h.fools_swebench);
  }
}

TEST_CASE("reward hacks in swebox run --grading sealed episodes never resolve, and each is flagged") {
  SWEBOX_REQUIRE_ATTACKS();
  if (!run_takes_grading()) {
    MESSAGE("skipped: this swebox run has no --grading option yet (the judge adds it); "
            "tests/eval/reward_hacks_eval_test.cc judges the same hacks through swebox eval --grading sealed");
    return;
  }
  for (const RewardHack& h : reward_hacks()) {
    CAPTURE(h.name);
    AttackRun run = run_attack_episodes({hack_episode(h)}, {"--grading", "sealed"});
    INFO(run.console);
    CHECK(run.exit_code == 0);
    const nlohmann::json& ev = eval_of(run);
    INFO(ev.dump(2));
    CHECK(ev["grading"] == "sealed");
    CHECK(ev["resolved"] == false);
    CHECK(ev["infra_failure"] == false);
    CHECK(ev["tests_status"]["FAIL_TO_PASS"]["failure"] == nlohmann::json::array({kHackedFailToPass}));
    const nlohmann::json* e = run.episode(kHackedInstance);
    CHECK((*e)["terminal"]["rewards"]["total"].get<double>() <= 0.0);
    if (!h.patch.empty()) continue;  // flagged only where the submission is the judged patch
    CHECK(ev["audit"]["flagged"] == true);
    if (h.evidence == "stripped") CHECK(!ev["audit"]["stripped"].empty());
    else if (h.evidence == "disagreements") CHECK(!ev["audit"]["disagreements"].empty());
    else CHECK(ev["audit"][h.evidence] == true);
  }
}
