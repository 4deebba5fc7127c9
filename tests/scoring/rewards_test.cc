// Test-based reward and CWM's shaping (docs/formats.md §5.2), and `swebox score` end to end.
#include <doctest/doctest.h>

#include <cstdio>
#include <fstream>

#include "tasks/rewards.h"
#include "tests/scoring/oracle.h"

using namespace swebox::tasks;

namespace {

const std::string kOracle =
    "diff --git a/src/f.py b/src/f.py\n--- a/src/f.py\n+++ b/src/f.py\n@@ -1,3 +1,3 @@\n def f():\n-    return 1\n+    return 2\n x = 1\n";
const std::string kClose =
    "diff --git a/src/f.py b/src/f.py\n--- a/src/f.py\n+++ b/src/f.py\n@@ -1,3 +1,3 @@\n def f():\n-    return 1\n+    return 3\n x = 1\n";
const std::string kElsewhere =
    "diff --git a/other.py b/other.py\n--- a/other.py\n+++ b/other.py\n@@ -1 +1 @@\n-a\n+b\n";

}  // namespace

TEST_CASE("pass_only gives +1 for a pass and -1 otherwise, with no similarity") {
  RewardOptions o;
  RewardParts pass = shaped_reward(o, true, kOracle, kClose);
  CHECK(pass.total == 1.0);
  CHECK(pass.test == 1.0);
  CHECK_FALSE(pass.similarity.has_value());
  CHECK(pass.mode == "pass_only");
  CHECK(shaped_reward(o, false, kOracle, kClose).total == -1.0);
  CHECK(test_reward(true) == 1.0);
  CHECK(test_reward(false) == -1.0);
}

TEST_CASE("similarities shaping: pass gives -1+s, a close failing patch -1+threshold*s, a far one -1") {
  for (auto [mode, s] : {std::pair{RewardMode::similarities, 1.0}, std::pair{RewardMode::similarities_2, 2.0}}) {
    RewardOptions o;
    o.mode = mode;
    RewardParts pass = shaped_reward(o, true, kOracle, kClose);
    CHECK(pass.total == -1.0 + s);
    CHECK_FALSE(pass.similarity.has_value());  // only computed for failing patches
    RewardParts close = shaped_reward(o, false, kOracle, kClose);
    REQUIRE(close.similarity.has_value());
    CHECK(*close.similarity > 0.9);
    CHECK(close.total == -1.0 + 0.5 * s);
    o.threshold = 0.99;
    CHECK(shaped_reward(o, false, kOracle, kClose).total == -1.0);
  }
}

TEST_CASE("CWM shaping drops predicted files outside the oracle instead of scoring them 0") {
  RewardOptions o;
  o.mode = RewardMode::similarities;
  RewardParts extra = shaped_reward(o, false, kOracle, kOracle + kElsewhere);
  CHECK(*extra.similarity == 1.0);  // SWE-RL's own reward would give 0.5
  RewardParts only_elsewhere = shaped_reward(o, false, kOracle, kElsewhere);
  CHECK(*only_elsewhere.similarity == 0.0);
  CHECK(only_elsewhere.total == -1.0);
  RewardParts nothing = shaped_reward(o, false, "", "");
  CHECK(nothing.total == -1.0);  // no files at all
}

TEST_CASE("an empty patch or one without 'diff' is not runnable") {
  CHECK_FALSE(patch_is_runnable(""));
  CHECK_FALSE(patch_is_runnable(" \n\t"));
  CHECK_FALSE(patch_is_runnable("--- a/x\n+++ b/x\n"));
  CHECK(patch_is_runnable(kOracle));
  CHECK(parse_reward_mode("similarities_2") == RewardMode::similarities_2);
  CHECK_THROWS_WITH_AS(parse_reward_mode("shaped"), doctest::Contains("pass_only"), std::invalid_argument);
}

#ifdef SWEBOX_BINARY
TEST_CASE("swebox score similarity prints one JSON line per prediction against the gold patch") {
  std::string dir = "/tmp/swebox-score-test-" + std::to_string(getpid());
  std::system(("mkdir -p " + dir).c_str());
  nlohmann::json inst = {{"repo", "o/r"},           {"instance_id", "o__r-1"}, {"base_commit", "0123456789abcdef0123456789abcdef01234567"},
                         {"patch", kOracle},        {"test_patch", ""},        {"problem_statement", "p"},
                         {"FAIL_TO_PASS", "[]"},    {"PASS_TO_PASS", "[]"},    {"version", "1"},
                         {"created_at", ""},        {"hints_text", ""},        {"environment_setup_commit", "0123456789abcdef0123456789abcdef01234567"}};
  std::ofstream(dir + "/suite.jsonl") << inst.dump() << "\n";
  std::ofstream(dir + "/preds.jsonl")
      << nlohmann::json{{"instance_id", "o__r-1"}, {"model_name_or_path", "m"}, {"model_patch", kOracle}}.dump() << "\n"
      << nlohmann::json{{"instance_id", "o__r-1"}, {"model_name_or_path", "m"}, {"model_patch", kElsewhere}}.dump() << "\n"
      << nlohmann::json{{"instance_id", "missing"}, {"model_name_or_path", "m"}, {"model_patch", kOracle}}.dump() << "\n";
  std::string cmd = std::string(SWEBOX_BINARY) + " score similarity --suite " + dir + "/suite.jsonl --predictions " + dir +
                    "/preds.jsonl > " + dir + "/out.jsonl 2> " + dir + "/err.txt";
  int rc = std::system(cmd.c_str());
  CHECK(WEXITSTATUS(rc) == 1);  // one prediction names an unknown instance
  std::ifstream out(dir + "/out.jsonl");
  std::vector<nlohmann::json> lines;
  for (std::string l; std::getline(out, l);) lines.push_back(nlohmann::json::parse(l));
  REQUIRE(lines.size() == 3);
  CHECK(lines[0]["instance_id"] == "o__r-1");
  CHECK(lines[0]["reward"] == 1.0);
  CHECK(lines[1]["reward"] == 0.0);  // extra file 0, oracle file 0
  CHECK(lines[2]["reward"].is_null());
  CHECK(lines[2]["error"].get<std::string>().find("missing") != std::string::npos);
  std::system(("rm -rf " + dir).c_str());
}
#endif
