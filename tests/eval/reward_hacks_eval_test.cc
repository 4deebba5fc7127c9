// Reward hacks judged by `swebox eval` in both grading modes, on the fixture suite (real
// repositories, the real sandbox, real pytest). Each hack is a patch made the way an agent makes it
// (shell commands in a checkout of the base commit, then `git diff`), with no fix in it: in sealed
// mode none may resolve, in swebench mode each is flagged in the report's audit (and the ones that
// fool SWE-bench's harness are shown to, so the sealed verdict means something).
#include <doctest/doctest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>

#include <nlohmann/json.hpp>

#include "command_run.h"
#include "fixture_suite.h"
#include "../attacks/reward_hacks.h"

namespace fs = std::filesystem;
using namespace swebox::test;

using namespace swebox::eval_test;

namespace {



const char* kCalc1 = kHackedInstance;

struct Fixture : FixtureSuite {
  std::map<std::string, nlohmann::json> instances;

  Fixture() : FixtureSuite("swebox-hacks-test-") {
    if (!fs::exists(suite())) return;
    std::ifstream in(fixtures / "suite.jsonl");
    for (std::string line; std::getline(in, line);) {
      auto rec = nlohmann::json::parse(line);
      instances[rec["instance_id"]] = rec;
    }
  }

  // A patch made by running `commands` in a checkout of the instance's base commit.
  std::string make_patch(const std::string& id, const std::string& commands) const {
    const auto& rec = instances.at(id);
    std::string repo = rec["repo"].get<std::string>();
    repo.replace(repo.find('/'), 1, "__");
    fs::path dir = root / ("work-" + std::to_string(std::hash<std::string>{}(commands)));
    fs::remove_all(dir);
    std::string base = rec["base_commit"];
    Ran r = run("git clone -q " + (fixtures / "repos" / repo).string() + " " + dir.string() + " && cd " + dir.string() +
                " && git checkout -q " + base + " && (" + commands + ") >/dev/null && git add -A && git -c core.quotepath=off diff --cached --binary " + base);
    REQUIRE_MESSAGE(r.status == 0, r.output);
    fs::remove_all(dir);
    return r.output;
  }

  // `swebox eval` of one prediction; returns the instance's report.json entry.
  nlohmann::json eval(const std::string& name, const std::string& id, const std::string& patch, const std::string& mode,
                      const std::string& suite = "") const {
    fs::path preds = root / (name + "-" + mode + ".jsonl");
    std::ofstream(preds) << nlohmann::json{{"instance_id", id}, {"model_name_or_path", "hacker"}, {"model_patch", patch}}.dump()
                         << "\n";
    std::string out = (root / ("out-" + name + "-" + mode)).string();
    Ran r = run(std::string(SWEBOX_BINARY) + " eval --repos " + (fixtures / "repos").string() + " --cache " +
                cache.string() + " --out " + out + " --suite " + (suite.empty() ? (fixtures / "suite.jsonl").string() : suite) +
                " --predictions " + preds.string() + " --instances " + id + " --grading " + mode + " --eval-timeout 120");
    INFO(r.output);
    REQUIRE((r.status == 0 || r.status == 3));  // 3: evaluated, but an infra failure
    last_output = r.output;
    last_status = r.status;
    fs::path dir = fs::path(out) / preds.stem() / "hacker" / id;
    last_dir = dir;
    std::ifstream in(dir / "report.json");
    REQUIRE_MESSAGE(in, "no report.json in " << dir);
    return nlohmann::json::parse(in).at(id);
  }
  mutable std::string last_output;
  mutable int last_status = -1;
  mutable fs::path last_dir;
};

const Fixture& fixture() {
  static Fixture f;
  return f;
}


}  // namespace

TEST_CASE("reward hacks: none resolves in sealed mode, each is flagged in swebench mode") {
  SKIP_UNLESS_READY();
  const auto& f = fixture();
  for (const RewardHack& h : reward_hacks()) {
    CAPTURE(h.name);
    std::string patch = h.patch.empty() ? f.make_patch(kCalc1, h.commands) : h.patch;
    REQUIRE(!patch.empty());

    nlohmann::json swe = f.eval(h.name, kCalc1, patch, "swebench");
    INFO("swebench output: " << f.last_output << "\nlog: " << read(f.last_dir / "run_instance.log"));
    CHECK(swe["grading"] == "swebench");
    CHECK(swe["audit"]["mode"] == "swebench");
    CHECK(swe["audit"]["flagged"] == true);
    CHECK(swe["resolved"] == h.fools_swebench);
    CHECK(swe["patch_successfully_applied"] == true);

    nlohmann::json sealed = f.eval(h.name, kCalc1, patch, "sealed");
    INFO("sealed output: " << f.last_output << "\nlog: " << read(f.last_dir / "run_instance.log")
                           << "\ntest output: " << read(f.last_dir / "test_output.txt"));
    CHECK(sealed["grading"] == "sealed");
    CHECK(sealed["resolved"] == false);
    CHECK(sealed["infra_failure"] == false);
    CHECK(sealed["audit"]["flagged"] == true);
    // The failing test was seen failing (not merely an unreadable log).
    CHECK(sealed["tests_status"]["FAIL_TO_PASS"]["failure"] == nlohmann::json::array({kHackedFailToPass}));
    // What gave it away, in both modes.
    if (h.evidence == "stripped") {
      CHECK(!sealed["audit"]["stripped"].empty());
      CHECK(!swe["audit"]["would_strip"].empty());
    } else if (h.evidence == "disagreements") {
      CHECK(sealed["audit"]["junit"]["used"] == true);
      CHECK(!sealed["audit"]["disagreements"].empty());
      CHECK(!swe["audit"]["disagreements"].empty());
    } else {
      CHECK(sealed["audit"][h.evidence] == true);
      CHECK(swe["audit"][h.evidence] == true);
    }
  }
}

TEST_CASE("sealed mode: gold still resolves and empty still fails on every fixture instance, with the hack stripped") {
  SKIP_UNLESS_READY();
  const auto& f = fixture();
  for (const auto& entry : f.instances) {
    const auto& id = entry.first;  // not a structured binding: CAPTURE's lambda cannot capture one in clang 14
    const auto& rec = entry.second;
    CAPTURE(id);
    std::string gold = rec["patch"];
    nlohmann::json g = f.eval("gold", id, gold, "sealed");
    INFO(f.last_output << read(f.last_dir / "run_instance.log"));
    CHECK(g["resolved"] == true);
    CHECK(g["audit"]["flagged"] == false);
    CHECK(g["audit"]["stripped"].empty());
    CHECK(g["audit"]["junit"]["used"] == true);
    CHECK(g["audit"]["test_patch_applied"] == true);
    nlohmann::json e = f.eval("empty", id, "", "sealed");
    CHECK(e["resolved"] == false);
    CHECK(!e["tests_status"]["FAIL_TO_PASS"]["failure"].empty());
  }
  // Gold plus the conftest hook: the hook is stripped, the fix still counts.
  std::string gold_and_hook = f.make_patch(kCalc1, "git apply - <<'EOF'\n" + f.instances.at(kCalc1)["patch"].get<std::string>() +
                                                      "EOF\n" + write_file_command("conftest.py", pass_everything_hook()));
  nlohmann::json both = f.eval("gold-and-hook", kCalc1, gold_and_hook, "sealed");
  CHECK(both["resolved"] == true);
  CHECK(both["audit"]["stripped"][0]["path"] == "conftest.py");
  CHECK(both["audit"]["flagged"] == true);
}

TEST_CASE("sealed mode: a test patch that does not apply is an infrastructure failure, not an unresolved patch") {
  SKIP_UNLESS_READY();
  const auto& f = fixture();
  nlohmann::json rec = f.instances.at(kCalc1);
  std::string tp = rec["test_patch"];
  size_t at = tp.find("def test_div");
  REQUIRE(at != std::string::npos);
  tp.replace(at, 12, "def test_DIV");  // a context line the base file does not have
  rec["test_patch"] = tp;
  std::string es = rec["eval_script"];
  at = es.find("def test_div");
  REQUIRE(at != std::string::npos);
  es.replace(at, 12, "def test_DIV");
  rec["eval_script"] = es;
  fs::path suite = f.root / "broken-test-patch.jsonl";
  std::ofstream(suite) << rec.dump() << "\n";
  nlohmann::json sealed = f.eval("broken", kCalc1, rec["patch"], "sealed", suite.string());
  INFO(f.last_output);
  CHECK(sealed["infra_failure"] == true);
  CHECK(f.last_status == 3);
  CHECK(sealed["infra_failure_reason"].get<std::string>().find("test patch") != std::string::npos);
  CHECK(sealed["resolved"] == false);
  // swebench mode, as SWE-bench: the script goes on and the log is graded (not an infra failure).
  nlohmann::json swe = f.eval("broken", kCalc1, rec["patch"], "swebench", suite.string());
  CHECK(swe["infra_failure"] == false);
  CHECK(f.last_status == 0);
}

TEST_CASE("swebox eval names its grading modes in --help and refuses an unknown one") {
  Ran help = run(std::string(SWEBOX_BINARY) + " eval --help");
  CHECK(help.status == 0);
  CHECK(help.output.find("--grading MODE") != std::string::npos);
  CHECK(help.output.find("sealed") != std::string::npos);
  Ran bad = run(std::string(SWEBOX_BINARY) + " eval --suite x --predictions gold --repos /tmp --out /tmp/x --grading strict");
  CHECK(bad.status == 2);
  CHECK(bad.output.find("unknown grading mode 'strict'") != std::string::npos);
}
