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

TEST_CASE("selfplay procedural with the oracle solver on toolz: gold resolves every instance, empty none") {
  if (!toolz().skip.empty()) {
    MESSAGE("skipped: " << toolz().skip);
    return;
  }
  selfplay_then_eval("procedural", "--injector procedural --solver oracle --bugs 2 --group 2 -j 2 --seed 3", 2);
  // The oracle solves every attempt: s = 1, so the injector gets -alpha; the solver +1 each.
  std::string rewards = read(toolz().dir / "procedural" / "rewards.jsonl");
  CHECK(rewards.find("\"injector_reward\":-0.8") != std::string::npos);
  CHECK(rewards.find("\"solver_rewards\":[1.0,1.0]") != std::string::npos);
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

TEST_CASE("selfplay refuses a non-empty --out and a policy solver it does not have") {
  const fs::path out = fs::temp_directory_path() / ("swebox-selfplay-cli-" + std::to_string(getpid()));
  fs::create_directories(out);
  { std::ofstream(out / "keep.txt") << "mine\n"; }
  Ran r = run(kSwebox + " selfplay --repo " + std::string(SWEBOX_SOURCE_DIR) + " --out " + out.string() + " 2>&1");
  CHECK(r.status == 1);
  CHECK(r.output.find("not empty") != std::string::npos);
  CHECK(read(out / "keep.txt") == "mine\n");
  Ran p = run(kSwebox + " selfplay --repo " + std::string(SWEBOX_SOURCE_DIR) + " --out " + (out / "new").string() +
              " --solver openai:http://127.0.0.1:1/v1 2>&1");
  CHECK(p.status == 2);
  CHECK(p.output.find("only the oracle solver") != std::string::npos);
  fs::remove_all(out);
}
