#include <doctest/doctest.h>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>

#include "trajectories/export.h"
#include "trajectories/record.h"
#include "trajectories/writer.h"

namespace fs = std::filesystem;
using namespace swebox::traj;
using nlohmann::json;

namespace {

fs::path temp_dir(const std::string& name) {
  fs::path d = fs::temp_directory_path() / ("swebox-traj-" + name + "-" + std::to_string(getpid()));
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// A two-turn submitted episode with tokens and log-probs, as a model policy would produce.
Episode sample_episode(const std::string& iid = "owner__repo-1", int sample = 0) {
  Episode e;
  e.episode_id = iid + "#" + std::to_string(sample);
  e.instance_id = iid;
  e.sample = sample;
  e.policy = "openai:http://127.0.0.1:1/v1#m";
  e.model = "m";
  e.config = {{"max_turns", 128}, {"strict", false}};
  e.sampling = {{"temperature", 0.7}};
  e.system_prompt = "You are an agent.";
  e.task_prompt = "Fix the bug.";
  e.prompt_tokens = {1, 2, 3};
  Turn t1;
  t1.index = 1;
  t1.action.text = "<tool: bash>\nls\n</tool>";
  t1.action.tokens = {10, 11};
  t1.action.logprobs = {-0.5, -0.25};
  t1.action.usage = {100, 2, 1, 0.01};
  t1.call = ToolCall{"bash", "ls\n"};
  t1.result = ToolResult{true, "a.py\nb.py", 0, "", false};
  t1.observation.text = "<output>\na.py\nb.py\n</output>";
  t1.observation.tokens = {20, 21, 22};
  t1.budget = {127, 1000};
  t1.policy_ms = 12.5;
  t1.tool_ms = 3.25;
  Turn t2;
  t2.index = 2;
  t2.action.text = "## Summary\ndone";
  t2.action.tokens = {30};
  t2.action.logprobs = {-0.1};
  t2.action.usage = {110, 1, 1, 0.01};
  t2.parse_error = ParseError{"FormatError", "no tool call"};
  e.turns = {t1, t2};
  e.terminal.status = ExitStatus::submitted;
  e.terminal.reason = "submitted and summarized";
  e.terminal.patch = "diff --git a/a.py b/a.py\n";
  e.terminal.submission = e.terminal.patch;
  e.terminal.eval = {{"patch_is_None", false}, {"patch_exists", true}, {"resolved", true}};
  e.terminal.rewards.total = 1;
  e.terminal.rewards.mode = "test";
  e.terminal.rewards.test = 1;
  e.usage = {210, 3, 2, 0.02};
  e.started_at = "2026-01-01T00:00:00Z";
  e.wall_ms = 42;
  return e;
}

}  // namespace

TEST_CASE("an episode survives a JSON round trip field for field") {
  Episode e = sample_episode();
  json j = to_json(e);
  CHECK(j["schema"] == "swebox.trajectory/1");
  Episode back = episode_from_json(json::parse(j.dump()));
  CHECK(to_json(back) == j);
  REQUIRE(back.turns.size() == 2);
  CHECK(back.turns[0].call->body == "ls\n");
  CHECK(back.turns[0].result->exit_code == 0);
  CHECK(back.turns[0].action.logprobs == std::vector<double>{-0.5, -0.25});
  CHECK(!back.turns[1].call);
  CHECK(back.turns[1].parse_error->kind == "FormatError");
  CHECK(back.terminal.status == ExitStatus::submitted);
  CHECK(back.resolved());
  CHECK(!back.terminal.rewards.similarity);
}

TEST_CASE("a record of another schema or without an instance is rejected by name") {
  json j = to_json(sample_episode());
  j["schema"] = "swebox.trajectory/99";
  CHECK_THROWS_WITH_AS(episode_from_json(j), doctest::Contains("swebox.trajectory/99"), std::runtime_error);
  j = to_json(sample_episode());
  j.erase("instance_id");
  CHECK_THROWS_WITH_AS(episode_from_json(j), doctest::Contains("instance_id"), std::runtime_error);
  j = to_json(sample_episode());
  j["terminal"]["exit_status"] = "exploded";
  CHECK_THROWS_WITH(episode_from_json(j), doctest::Contains("exploded"));
}

TEST_CASE("an integer field out of its type's range is rejected by name, not cast") {
  // A float to int cast out of range is undefined behaviour (fuzz/corpus/trajectory/crash-*).
  for (json bad : {json(1e300), json(-1e300), json(4294967296.0), json(uint64_t(1) << 40)}) {
    json j = to_json(sample_episode());
    j["sample"] = bad;
    CHECK_THROWS_WITH_AS(episode_from_json(j), doctest::Contains("'sample'"), std::runtime_error);
    j = to_json(sample_episode());
    j["turns"][0]["action"]["tokens"] = json::array({1, bad});
    CHECK_THROWS_WITH_AS(episode_from_json(j), doctest::Contains("'tokens'"), std::runtime_error);
  }
  json j = to_json(sample_episode());
  j["sample"] = 7.0;  // a whole float in range still reads
  CHECK(episode_from_json(j).sample == 7);
  j["usage"]["prompt_tokens"] = 1e18;  // int64 fields take what fits them
  CHECK(episode_from_json(j).usage.prompt_tokens == 1000000000000000000);
}

TEST_CASE("invalid UTF-8 in tool output is replaced, not a lost record") {
  Episode e = sample_episode();
  e.turns[0].result->output = std::string("bad \xff\xfe bytes");
  fs::path d = temp_dir("utf8");
  {
    JsonlAppender w((d / "t.jsonl").string());
    w.append(to_json(e));
  }
  auto back = read_trajectories((d / "t.jsonl").string());
  REQUIRE(back.size() == 1);
  CHECK(back[0].turns[0].result->output.find("bytes") != std::string::npos);
  fs::remove_all(d);
}

TEST_CASE("opening a file with a torn last record truncates it away") {
  fs::path d = temp_dir("torn");
  std::string path = (d / "t.jsonl").string();
  {
    JsonlAppender w(path);
    w.append(to_json(sample_episode("a__b-1")));
    w.append(to_json(sample_episode("a__b-2")));
  }
  std::string whole = slurp(path);
  {
    std::ofstream out(path, std::ios::app | std::ios::binary);
    out << R"({"schema":"swebox.trajectory/1","instance_id":"a__b-3","turns":[{"ind)";
  }
  // A reader skips the unterminated tail (it may be a write in flight).
  CHECK(read_jsonl(path).size() == 2);
  {
    JsonlAppender w(path);
    CHECK(w.repaired_bytes() > 0);
    CHECK(slurp(path) == whole);
    w.append(to_json(sample_episode("a__b-3")));
  }
  auto eps = read_trajectories(path);
  REQUIRE(eps.size() == 3);
  CHECK(eps[2].instance_id == "a__b-3");
  // A terminated line of garbage (zero-filled blocks after a power cut) is cut as well.
  {
    std::ofstream out(path, std::ios::app | std::ios::binary);
    out << std::string(10, '\0') << "\n";
  }
  {
    JsonlAppender w(path);
    CHECK(w.repaired_bytes() == 11);
  }
  CHECK(read_jsonl(path).size() == 3);
  fs::remove_all(d);
}

TEST_CASE("a corrupt record in the middle is an error naming file and line") {
  fs::path d = temp_dir("corrupt");
  std::string path = (d / "t.jsonl").string();
  std::ofstream(path) << dump_line(to_json(sample_episode())) << "\n{oops\n" << dump_line(to_json(sample_episode())) << "\n";
  CHECK_THROWS_WITH(read_jsonl(path), doctest::Contains("t.jsonl:2"));
  fs::remove_all(d);
}

TEST_CASE("a second writer on the same file is refused") {
  fs::path d = temp_dir("lock");
  std::string path = (d / "t.jsonl").string();
  JsonlAppender first(path);
  CHECK_THROWS_WITH(JsonlAppender second(path), doctest::Contains("another process"));
  fs::remove_all(d);
}

TEST_CASE("done keys are the (instance, sample) pairs written") {
  fs::path d = temp_dir("keys");
  std::string path = (d / "t.jsonl").string();
  CHECK(done_keys(path).empty());  // a missing file is an empty run
  {
    JsonlAppender w(path);
    w.append(to_json(sample_episode("x__y-1", 0)));
    w.append(to_json(sample_episode("x__y-1", 3)));
  }
  auto keys = done_keys(path);
  CHECK(keys == std::set<std::string>{episode_key("x__y-1", 0), episode_key("x__y-1", 3)});
  fs::remove_all(d);
}

TEST_CASE("kill -9 during appends never leaves a partial record") {
  fs::path d = temp_dir("kill");
  std::string path = (d / "t.jsonl").string();
  std::mt19937 rng(7);
  size_t expected_min = 0;
  for (int round = 0; round < 5; ++round) {
    pid_t pid = fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
      JsonlAppender w(path);
      Episode e = sample_episode();
      e.turns[0].result->output = std::string(200000, 'x');  // big records: writes take a while
      for (int i = 0;; ++i) {
        e.sample = i;
        w.append(to_json(e));
      }
    }
    usleep(20000 + rng() % 80000);
    kill(pid, SIGKILL);
    int status = 0;
    waitpid(pid, &status, 0);
    JsonlAppender reopen(path);  // repairs whatever the kill left
    auto records = read_jsonl(path);
    CHECK(records.size() >= expected_min);
    expected_min = records.size();
    std::string content = slurp(path);
    CHECK((content.empty() || content.back() == '\n'));
    for (const json& r : records) CHECK(r["instance_id"] == "owner__repo-1");
  }
  CHECK(expected_min > 0);
  fs::remove_all(d);
}

TEST_CASE("predictions export one line per instance in SWE-bench's shape") {
  fs::path d = temp_dir("pred");
  std::vector<Episode> eps = {sample_episode("a__b-2", 1), sample_episode("a__b-2", 0), sample_episode("a__b-1", 0)};
  eps[1].terminal.patch = "diff sample0";
  CHECK(write_predictions(eps, (d / "p.jsonl").string()) == 2);
  auto lines = read_jsonl((d / "p.jsonl").string());
  REQUIRE(lines.size() == 2);
  CHECK(lines[1]["instance_id"] == "a__b-2");
  CHECK(lines[1]["model_patch"] == "diff sample0");
  CHECK(lines[0]["model_name_or_path"] == "m");
  CHECK(lines[0].size() == 3);
  CHECK(write_predictions(eps, (d / "all.jsonl").string(), true) == 3);
  CHECK(read_jsonl((d / "all.jsonl").string())[0]["sample"] == 1);
  fs::remove_all(d);
}

TEST_CASE("chat export alternates assistant actions and observations after the prompt") {
  json c = to_chat_messages(sample_episode());
  const json& m = c["messages"];
  REQUIRE(m.size() == 5);
  CHECK(m[0]["role"] == "system");
  CHECK(m[1] == json{{"role", "user"}, {"content", "Fix the bug."}});
  CHECK(m[2]["role"] == "assistant");
  CHECK(m[3]["role"] == "user");
  CHECK(m[3]["content"] == "<output>\na.py\nb.py\n</output>");
  CHECK(m[4]["content"] == "## Summary\ndone");
  CHECK(c["resolved"] == true);
}

TEST_CASE("mini-swe-agent export has the 1.1 fields") {
  json t = to_mini_swe_agent(sample_episode());
  CHECK(t["trajectory_format"] == "mini-swe-agent-1.1");
  CHECK(t["info"]["exit_status"] == "Submitted");
  CHECK(t["info"]["submission"] == "diff --git a/a.py b/a.py\n");
  CHECK(t["info"]["model_stats"]["api_calls"] == 2);
  CHECK(t["info"]["model_stats"]["instance_cost"] == doctest::Approx(0.02));
  CHECK(t["info"].contains("config"));
  const json& m = t["messages"];
  CHECK(m[2]["role"] == "assistant");
  CHECK(m[2]["extra"]["actions"][0]["command"] == "ls\n");
  CHECK(m[2]["extra"].contains("cost"));
  CHECK(m[3]["role"] == "tool");
  CHECK(m[3]["extra"]["raw_output"] == "a.py\nb.py");
  CHECK(m[3]["extra"]["returncode"] == 0);
  CHECK(m.back()["role"] == "exit");
  Episode e = sample_episode();
  e.terminal.status = ExitStatus::max_turns;
  CHECK(to_mini_swe_agent(e)["info"]["exit_status"] == "LimitsExceeded");
  fs::path d = temp_dir("mini");
  write_mini_swe_agent({sample_episode("a__b-1", 0), sample_episode("a__b-1", 1), sample_episode("c__d-1")}, d.string());
  CHECK(fs::exists(d / "a__b-1__s1.traj.json"));
  CHECK(fs::exists(d / "c__d-1.traj.json"));
  fs::remove_all(d);
}

TEST_CASE("CWM export: start transition, one reward per action token, terminal reward last") {
  Episode e = sample_episode();
  json dump = to_cwm_dump(e);
  const json& tr = dump["rollouts"][0]["traj"]["transitions"];
  REQUIRE(tr.size() == 3);
  CHECK(tr[0]["action"].empty());
  CHECK(tr[0]["observation"] == json{1, 2, 3});
  CHECK(tr[1]["rewards"] == json{0.0, 0.0});
  CHECK(tr[1]["observation"] == json{20, 21, 22});
  CHECK(tr[1]["terminal"] == false);
  CHECK(tr[2]["terminal"] == true);
  CHECK(tr[2]["observation"].empty());
  CHECK(tr[2]["rewards"] == json{1.0});
  CHECK(tr[2]["eos_reward"] == 1.0);
  CHECK(tr[0]["eos_reward"].is_null());
  // Without tokens (a chat policy) the per-token rewards are empty, the terminal reward stays.
  Episode no_tokens = sample_episode();
  for (Turn& t : no_tokens.turns) t.action.tokens.clear(), t.action.logprobs.clear();
  json d2 = to_cwm_dump(no_tokens);
  CHECK(d2["rollouts"][0]["traj"]["transitions"][2]["rewards"].empty());
  CHECK(d2["rollouts"][0]["traj"]["transitions"][2]["eos_reward"] == 1.0);
  CHECK(!d2["rollouts"][0]["traj"].contains("log_prob_behavior"));
  CHECK(tr[2]["outcomes"]["pass"] == true);
  CHECK(tr[2]["info"]["pred_patch"] == e.terminal.patch);
  // Behaviour log-probs cover the whole context: prompt 3 + action 2 + observation 3 + action 1.
  const json& lp = dump["rollouts"][0]["traj"]["log_prob_behavior"][0];
  CHECK(lp.size() == 9);
  CHECK(lp[3] == -0.5);
  CHECK(dump["metrics"][0]["pass"] == true);
}

TEST_CASE("outcome: set-up, endpoint and evaluation failures are infra errors, a sandbox dead mid-episode is the model's") {
  swebox::traj::Episode e;
  e.terminal.status = swebox::traj::ExitStatus::env_error;
  for (const char* stage : {"setup", "endpoint", "evaluation"}) {
    e.extra["infra_stage"] = stage;
    CHECK(e.outcome() == swebox::traj::Outcome::infra_error);
  }
  e.extra["infra_stage"] = "sandbox";  // after the agent's commands: it may have killed it itself
  CHECK(e.outcome() == swebox::traj::Outcome::model);
  e.terminal.status = swebox::traj::ExitStatus::submitted;
  e.extra = nlohmann::json::object();
  e.terminal.eval = {{"resolved", false}, {"infra_failure", true}};
  CHECK(e.outcome() == swebox::traj::Outcome::infra_error);
  e.terminal.eval = {{"resolved", false}, {"ambiguous_failure", true}};
  CHECK(e.outcome() == swebox::traj::Outcome::ambiguous);
}
