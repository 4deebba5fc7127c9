// `swebox run --profile cwm` end to end with the tools' CWM switches, without a CWM checkout: a
// replayed episode on a small repository made here, its recorded observations checked for what the
// differential test (scripts/cwm_diff.py) established against CWM's own code: the final newline
// kept, bash's line numbers counted from the session's start (the second command is line 21: CWM's
// 12-line start script, 2 protocol lines per command, a 3-line exit-code query after each), a
// syntax error ending the session, an unclosed quote timing out, submit's path expanded by the
// shell. The swebox profile, same actions, keeps its own behaviour.
#include <doctest/doctest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "../eval/command_run.h"

namespace fs = std::filesystem;
using nlohmann::json;
using swebox::eval_test::run;

namespace {
const std::string kSwebox = SWEBOX_BINARY;

std::string call(const std::string& tool, const std::string& body) { return "<tool: " + tool + ">\n" + body + "\n</tool>"; }

struct Episode {
  std::vector<std::string> observations;
  std::string exit_status;
};

// Runs the actions through `swebox run --profile PROFILE` (replay policy) and returns the record.
Episode replay(const fs::path& dir, const std::string& profile, const std::vector<std::string>& actions) {
  fs::path repo = dir / "repos/local__fixture";
  if (!fs::exists(repo)) {
    fs::create_directories(repo);
    auto made = run("cd " + repo.string() +
                    " && git init -q -b main && printf 'def f():\\n    return 1\\n' > app.py && git add -A && "
                    "git -c user.name=t -c user.email=t@invalid commit -q -m base && git rev-parse HEAD");
    REQUIRE(made.status == 0);
    std::string base = made.output.substr(0, 40);
    std::ofstream(dir / "suite.jsonl") << json{{"repo", "local/fixture"}, {"instance_id", "local__fixture-1"},
                                               {"base_commit", base}, {"patch", ""}, {"test_patch", ""},
                                               {"problem_statement", "Make f return 2."}, {"version", "1.0"},
                                               {"FAIL_TO_PASS", "[]"}, {"PASS_TO_PASS", "[]"}}
                                                  .dump()
                                       << "\n";
    std::ofstream(dir / "env.json") << R"({"defaults": {}, "repos": {"local/fixture": [{"versions": ["*"], "apt": ["python3", "git"]}]}})";
  }
  json turns = json::array();
  for (size_t i = 0; i < actions.size(); ++i) turns.push_back({{"index", i + 1}, {"action", {{"text", actions[i]}}}});
  fs::path replay_file = dir / (profile + "-replay.jsonl");
  std::ofstream(replay_file) << json{{"instance_id", "local__fixture-1"}, {"sample", 0}, {"turns", turns}}.dump() << "\n";
  fs::path out = dir / (profile + "-out");
  auto ran = run(kSwebox + " run --quiet --no-eval --profile " + profile + " --suite " + (dir / "suite.jsonl").string() +
                 " --repos " + (dir / "repos").string() + " --environments " + (dir / "env.json").string() + " --cache " +
                 (dir / "cache").string() + " --out " + out.string() + " --policy replay:" + replay_file.string() +
                 " --bash-timeout 2");
  INFO(ran.output);
  REQUIRE(fs::exists(out / "trajectories.jsonl"));
  std::ifstream in(out / "trajectories.jsonl");
  std::string line;
  std::getline(in, line);
  json e = json::parse(line);
  Episode ep;
  for (const auto& t : e["turns"]) ep.observations.push_back(t["observation"]["text"].get<std::string>());
  ep.exit_status = e["terminal"]["exit_status"].get<std::string>();
  return ep;
}

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }
}  // namespace

TEST_CASE("profile cwm: the tools behave as CWM's released environment, the swebox profile as before") {
  fs::path dir = fs::temp_directory_path() / ("swebox-cwm-profile-tools-" + std::to_string(getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  const std::vector<std::string> actions = {
      call("bash", "echo hi"),
      call("bash", "nosuchcommand"),
      call("bash", "if then fi"),
      call("bash", "echo 'unclosed"),
      call("bash", "sed -i 's/return 1/return 2/' app.py && git diff > fix.patch && cp fix.patch ~/x.patch"),
      call("submit", "~/x.patch"),
      "## Summary\n\nDone.",
  };
  Episode cwm = replay(dir, "cwm", actions);
  REQUIRE(cwm.observations.size() >= 6);
  CHECK(contains(cwm.observations[0], "<output>\nhi\n\n</output>"));
  CHECK(contains(cwm.observations[1], "/bin/bash: line 21: nosuchcommand: command not found\n\n</output>"));
  CHECK(contains(cwm.observations[2], "<output>\n" + swebox::eval_test::read(fs::path(SWEBOX_SOURCE_DIR) / "templates/tools/bash_ended.txt").substr(0, 20)));
  CHECK(contains(cwm.observations[3], "<output>\n" + swebox::eval_test::read(fs::path(SWEBOX_SOURCE_DIR) / "templates/tools/bash_timeout.txt").substr(0, 20)));
  CHECK(contains(cwm.observations[5], "<submission>\ndiff --git a/app.py b/app.py"));
  CHECK(contains(cwm.observations[5], "+    return 2\n\n</submission>"));
  CHECK(cwm.exit_status == "submitted");

  Episode ours = replay(dir, "swebox", actions);
  REQUIRE(ours.observations.size() >= 6);
  CHECK(contains(ours.observations[0], "<output>\nhi\n</output>"));
  CHECK(contains(ours.observations[2], "syntax error"));  // eval prints bash's error and goes on
  CHECK(contains(ours.observations[5], "x.patch"));        // the path taken literally: not found
  CHECK(!contains(ours.observations[5], "<submission>"));
  fs::remove_all(dir);
}
