// `swebox selfplay` end to end on a real repository: the sources and tests of Debian's python3-toolz
// made into a git repository by scripts/make-toolz-repo.sh. The produced instances must be
// resolved by `swebox eval --predictions gold` and not by `empty`. Skips, saying so, when
// python3-toolz is not installed (scripts/setup.sh installs it).
#include <doctest/doctest.h>

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "../eval/command_run.h"

namespace fs = std::filesystem;
using swebox::eval_test::Ran;
using swebox::eval_test::read;
using swebox::eval_test::read_json;
using swebox::eval_test::run;

namespace {

const std::string kSwebox = SWEBOX_BINARY;

struct ToolzRepo {
  fs::path dir = fs::temp_directory_path() / ("swebox-selfplay-test-" + std::to_string(getpid()));
  std::string skip;
  ToolzRepo() {
    fs::remove_all(dir);
    fs::create_directories(dir);
    if (!fs::exists("/usr/lib/python3/dist-packages/toolz/tests")) {
      skip = "python3-toolz is not installed (scripts/setup.sh installs it)";
      return;
    }
    Ran made = run(std::string(SWEBOX_SOURCE_DIR) + "/scripts/make-toolz-repo.sh " + (dir / "toolz").string() + " 2>&1");
    if (made.status != 0) skip = "make-toolz-repo.sh failed: " + made.output;
  }
  ~ToolzRepo() {
    std::error_code ec;
    fs::remove_all(dir, ec);
  }
};

ToolzRepo& toolz() {
  static ToolzRepo r;
  return r;
}

// selfplay, then gold and empty evaluations of what it produced.
void selfplay_then_eval(const std::string& name, const std::string& flags, int want_valid) {
  const fs::path out = toolz().dir / name, evals = toolz().dir / (name + "-eval"), cache = toolz().dir / "cache";
  Ran sp = run(kSwebox + " selfplay --repo " + (toolz().dir / "toolz").string() + " --out " + out.string() +
               " --cache " + cache.string() + " " + flags + " 2>&1");
  INFO(sp.output);
  REQUIRE(sp.status == 0);
  auto summary = read_json(out / "summary.json");
  CHECK(summary["valid"].get<int>() == want_valid);
  CHECK(summary["candidates"].get<int>() >= want_valid);
  CHECK(summary["candidates"].get<int>() ==
        want_valid + summary["infra_failures"].get<int>() +
            [&] {
              int n = 0;
              for (auto& [k, v] : summary["rejections"].items()) n += v.get<int>();
              return n;
            }());
  std::string instances = read(out / "instances.jsonl");
  CHECK(std::count(instances.begin(), instances.end(), '\n') == want_valid);
  CHECK(fs::exists(out / "rewards.jsonl"));

  for (const char* predictions : {"gold", "empty"}) {
    Ran ev = run(kSwebox + " eval --suite " + (out / "instances.jsonl").string() + " --predictions " + predictions +
                 " --repos " + (out / "repos").string() + " --out " + evals.string() + " --cache " + cache.string() +
                 " -j 2 2>&1");
    INFO(ev.output);
    REQUIRE(ev.status == 0);
    auto run_summary = read_json(evals / (std::string(predictions) + "." + predictions + ".json"));
    CHECK(run_summary["completed_instances"].get<int>() == want_valid);
    CHECK(run_summary["resolved_instances"].get<int>() == (std::string(predictions) == "gold" ? want_valid : 0));
  }
}

}  // namespace

// The repair episodes' records (OUT/solver/trajectories.jsonl), one JSON object each.
std::vector<nlohmann::json> solver_records(const fs::path& out) {
  std::vector<nlohmann::json> records;
  std::ifstream in(out / "solver" / "trajectories.jsonl");
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) records.push_back(nlohmann::json::parse(line));
  return records;
}

const std::string kProceduralFlags = "--injector procedural --bugs 2 --group 2 -j 2 --seed 3 --quiet";

TEST_CASE("selfplay procedural with the oracle solver on toolz: real repair episodes, gold resolves every instance, empty none") {
  if (!toolz().skip.empty()) {
    MESSAGE("skipped: " << toolz().skip);
    return;
  }
  selfplay_then_eval("procedural", kProceduralFlags + " --solver oracle", 2);
  // The oracle policy applies the gold patch through the tools in each repair episode: s = 1, so
  // the injector gets -alpha; the solver +1 each.
  const fs::path out = toolz().dir / "procedural";
  std::string rewards = read(out / "rewards.jsonl");
  CHECK(rewards.find("\"injector_reward\":-0.8") != std::string::npos);
  CHECK(rewards.find("\"solver_rewards\":[1.0,1.0]") != std::string::npos);
  // The episodes as `swebox run` writes them, each stating its role, on the buggy root commit.
  auto records = solver_records(out);
  REQUIRE(records.size() == 4);
  for (const auto& r : records) {
    CHECK(r["task_kind"] == "repair");
    CHECK(r["policy"] == "oracle");
    CHECK(r["terminal"]["eval"]["resolved"] == true);
    CHECK(r["terminal"]["rewards"]["total"].get<double>() == 1.0);
    CHECK(r["turns"].size() >= 2);  // edits, then the submission: actions, not a bare evaluation
    CHECK(r["prompt"]["user"].get<std::string>().find("We are strengthening this repository's test suite") != std::string::npos);
  }
  CHECK(read_json(out / "selfplay.json")["identity"]["solver"] == "oracle");
  auto summary = read_json(out / "summary.json");
  CHECK(summary["repair_episodes"].get<int>() == 4);
}

TEST_CASE("selfplay with a replay solver: the replayed fix gets +1, doing nothing -1, the injector 1-(1+a)s, and --resume keeps it all") {
  if (!toolz().skip.empty()) {
    MESSAGE("skipped: " << toolz().skip);
    return;
  }
  const fs::path oracle_run = toolz().dir / "procedural";
  if (!fs::exists(oracle_run / "solver" / "trajectories.jsonl"))
    selfplay_then_eval("procedural", kProceduralFlags + " --solver oracle", 2);
  // Sample 0 replays the oracle's actions (the fix); sample 1 has no action at all (does nothing).
  const fs::path replay = toolz().dir / "replay-mixed.jsonl";
  {
    std::ofstream f(replay);
    for (auto r : solver_records(oracle_run)) {
      if (r["sample"] == 1) r["turns"] = nlohmann::json::array();
      f << r.dump() << "\n";
    }
  }
  const fs::path out = toolz().dir / "replayed";
  const std::string cmd = kSwebox + " selfplay --repo " + (toolz().dir / "toolz").string() + " --out " + out.string() +
                          " --cache " + (toolz().dir / "cache").string() + " " + kProceduralFlags + " --solver replay:" +
                          replay.string();
  Ran sp = run(cmd);
  INFO(sp.output);
  REQUIRE(sp.status == 0);
  std::ifstream rewards(out / "rewards.jsonl");
  int valid = 0;
  for (std::string line; std::getline(rewards, line);) {
    auto r = nlohmann::json::parse(line);
    if (!r["valid"].get<bool>()) continue;
    ++valid;
    CHECK(r["solver_rewards"] == nlohmann::json::array({1.0, -1.0}));
    CHECK(r["solve_rate"].get<double>() == doctest::Approx(0.5));
    CHECK(r["injector_reward"].get<double>() == doctest::Approx(1 - 1.8 * 0.5));
  }
  CHECK(valid == 2);
  auto records = solver_records(out);
  REQUIRE(records.size() == 4);
  for (const auto& r : records) {
    CHECK(r["task_kind"] == "repair");
    CHECK(r["terminal"]["eval"]["resolved"] == (r["sample"] == 0));
  }

  // --resume: the validated artifacts and the finished episodes are kept, nothing runs again.
  Ran again = run(cmd + " --resume");
  INFO(again.output);
  CHECK(again.status == 0);
  CHECK(again.output.find("resuming: ") != std::string::npos);
  CHECK(solver_records(out).size() == 4);
  CHECK(read_json(out / "summary.json")["test_runs"].get<int>() == 1);  // only the original's, once
  CHECK(read_json(out / "summary.json")["valid"].get<int>() == 2);
  // ... and refuses another run's identity, naming the field.
  Ran other = run(cmd + " --resume --group 3");
  CHECK(other.status == 1);
  CHECK(other.output.find("different identity") != std::string::npos);
  CHECK(other.output.find("group") != std::string::npos);
}

TEST_CASE("selfplay history on toolz: the reverted fixes that break tests become instances") {
  if (!toolz().skip.empty()) {
    MESSAGE("skipped: " << toolz().skip);
    return;
  }
  // Three fix commits: two of them are covered by toolz's tests, the third (get_in) is not.
  selfplay_then_eval("history", "--injector history --bugs 5 --group 1 -j 2", 2);
  auto summary = read_json(toolz().dir / "history" / "summary.json");
  CHECK(summary["rejections"]["bug_breaks_tests"].get<int>() == 1);
  CHECK(summary["strategies"]["history"]["valid"].get<int>() == 2);
}

TEST_CASE("selfplay refuses a non-empty --out without --resume and a solver that is not a policy") {
  const fs::path out = fs::temp_directory_path() / ("swebox-selfplay-cli-" + std::to_string(getpid()));
  fs::create_directories(out);
  { std::ofstream(out / "keep.txt") << "mine\n"; }
  Ran r = run(kSwebox + " selfplay --repo " + std::string(SWEBOX_SOURCE_DIR) + " --out " + out.string() + " 2>&1");
  CHECK(r.status == 1);
  CHECK(r.output.find("not empty") != std::string::npos);
  CHECK(read(out / "keep.txt") == "mine\n");
  Ran p = run(kSwebox + " selfplay --repo " + std::string(SWEBOX_SOURCE_DIR) + " --out " + (out / "new").string() +
              " --solver gpt4 2>&1");
  CHECK(p.status == 2);
  CHECK(p.output.find("not a policy") != std::string::npos);
  Ran q = run(kSwebox + " selfplay --repo " + std::string(SWEBOX_SOURCE_DIR) + " --out " + (out / "new").string() +
              " --solver replay:" + (out / "absent.jsonl").string() + " 2>&1");
  CHECK(q.status == 2);
  CHECK(q.output.find("no file") != std::string::npos);
  Ran r2 = run(kSwebox + " selfplay --repo " + std::string(SWEBOX_SOURCE_DIR) + " --out " + out.string() + " --resume 2>&1");
  CHECK(r2.status == 1);
  CHECK(r2.output.find("not a selfplay run") != std::string::npos);
  CHECK(read(out / "keep.txt") == "mine\n");
  fs::remove_all(out);
}
