// Issue 9's "failures that say so" and "a resume that is safe", each through the real `swebox run`:
// the preflight (repository, commit, environment, endpoint, model), infra errors kept apart from the
// model's results (out of pass@k, listed, exit 3, rerun by --resume), the endpoint breaker (exit 4),
// the run's identity on --resume, required suite fields, unknown ids, Ctrl-C then --resume.
#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pty.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <thread>

#include "run_command.h"
#include "runner_fixture.h"
#include "stub_openai_server.h"
#include "trajectories/writer.h"

namespace fs = std::filesystem;
using namespace swebox;
using swebox::test::runner_fixture;
using swebox::test::slurp;
using swebox::test::spawn_run;
using swebox::test::wait_exit;
using swebox::test::ScriptedReply;
using swebox::test::StubOpenAIServer;
using nlohmann::json;

namespace {

using swebox::test::Ran;
using swebox::test::scratch;
Ran run(const std::string& out, const std::string& policy, std::vector<std::string> extra, std::string suite = "") {
  return swebox::test::run_on_fixture(out, policy, std::move(extra), std::move(suite));
}

// A model server: lists `served` at /models (404 when empty), and answers a chat request with
// what `reply` says for the instance its task prompt is about.
struct ModelServer {
  std::atomic<int> chats{0};
  std::vector<std::string> served;
  std::function<ScriptedReply(const std::string& instance)> reply;
  StubOpenAIServer server{[this](const std::string& target, const json& body) -> ScriptedReply {
    if (target.size() >= 7 && target.substr(target.size() - 7) == "/models") {
      if (served.empty()) return {404, R"({"error":"no such route"})", 0};
      json data = json::array();
      for (const std::string& m : served) data.push_back({{"id", m}, {"object", "model"}});
      return {200, json{{"object", "list"}, {"data", data}}.dump(), 0};
    }
    ++chats;
    std::string text = body.dump();
    std::string instance = text.find("mul(4, -3)") != std::string::npos   ? "calc-1"
                           : text.find("mean([])") != std::string::npos  ? "calc-2"
                           : text.find("slugify") != std::string::npos   ? "textkit-1"
                                                                         : "?";
    return reply(instance);
  }};
  std::string policy(const std::string& model = "m1") { return "openai:" + server.url() + "#" + model; }
};

ScriptedReply bash_reply(int delay_ms = 0) {
  return {200, swebox::test::chat_reply("<tool: bash>\necho working\n</tool>"), delay_ms};
}

// Waits (20 s at most) until `log` holds `text`: a signal sent before the run is under way would
// test nothing.
bool wait_for_text(const std::string& log, const std::string& text) {
  for (int i = 0; i < 400; ++i) {
    if (slurp(log).find(text) != std::string::npos) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return false;
}

std::vector<traj::Episode> records(const std::string& out) { return traj::read_trajectories(out + "/trajectories.jsonl"); }

}  // namespace

TEST_CASE("preflight: a missing repository, commit and environment stop the run before any episode, each named") {
  SWEBOX_REQUIRE_FIXTURE();
  std::string out = scratch("pre-bad");
  Ran r = run(out, "oracle", {"--quiet"}, runner_fixture().dir + "/bad-suite.jsonl");
  INFO(r.log);
  CHECK(r.rc == 1);
  CHECK(r.log.find("preflight failed, no episode was run") != std::string::npos);
  CHECK(r.log.find("no repository for swebox-fixtures/nope") != std::string::npos);
  CHECK(r.log.find("is not in the repository") != std::string::npos);               // the missing commit
  CHECK(r.log.find("swebox-fixture-absent-package") != std::string::npos);           // the missing environment
  CHECK(r.log.find("skipping: ") != std::string::npos);                               // the malformed line
  CHECK(records(out).empty());
  CHECK(!fs::exists(out + "/run.json"));
}

TEST_CASE("preflight: a dead endpoint and a model the endpoint does not serve are refused with what to fix") {
  SWEBOX_REQUIRE_FIXTURE();
  // Port 9 on loopback: nothing listens (discard is not served here).
  Ran dead = run(scratch("pre-dead"), "openai:http://127.0.0.1:9/v1#m1", {"--quiet"});
  INFO(dead.log);
  CHECK(dead.rc == 1);
  CHECK(dead.log.find("does not answer") != std::string::npos);
  CHECK(records(scratch("pre-dead")).empty());

  ModelServer m;
  m.served = {"m1", "m-large"};
  m.reply = [](const std::string&) { return bash_reply(); };
  Ran wrong = run(scratch("pre-404"), m.policy("gpt-nonexistent"), {"--quiet"});
  INFO(wrong.log);
  CHECK(wrong.rc == 1);
  CHECK(wrong.log.find("does not serve the model 'gpt-nonexistent' (it serves: m1, m-large)") != std::string::npos);
  CHECK(m.chats == 0);
}

TEST_CASE("preflight: an endpoint that accepts and never answers is refused at the deadline, not waited on") {
  SWEBOX_REQUIRE_FIXTURE();
  // A listening socket nobody accepts on: the kernel completes the handshake, no reply ever comes
  // (a wedged or paused server). The preflight used to wait as long as the socket lived.
  int listener = socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(listener >= 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  REQUIRE(bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  REQUIRE(listen(listener, 16) == 0);
  REQUIRE(getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len) == 0);
  std::string policy = "openai:http://127.0.0.1:" + std::to_string(ntohs(addr.sin_port)) + "/v1#m1";
  auto t0 = std::chrono::steady_clock::now();
  std::string out = scratch("pre-silent");
  Ran r = run(out, policy, {"--quiet", "--request-timeout", "2"});
  double waited = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  close(listener);
  INFO(r.log);
  CHECK(r.rc == 1);
  CHECK(r.log.find("preflight failed, no episode was run") != std::string::npos);
  CHECK(r.log.find("/v1/models does not answer (no reply within 2 s); is the server up?") != std::string::npos);
  CHECK(waited < 8.0);  // the 2 s deadline, not the socket's lifetime
  CHECK(records(out).empty());
}

TEST_CASE("an endpoint failing every episode stops the run after three in a row: exit 4, nothing counted as the model's") {
  SWEBOX_REQUIRE_FIXTURE();
  ModelServer m;  // no /models listing: the preflight cannot tell, the episodes do
  m.reply = [](const std::string&) { return ScriptedReply{404, R"({"error":"The model `m1` does not exist."})", 0}; };
  std::string out = scratch("breaker");
  Ran r = run(out, m.policy(), {"--quiet", "--samples", "3", "-j", "1", "--no-eval"});
  INFO(r.log);
  CHECK(r.rc == 4);
  CHECK(r.log.find("failed 3 episodes in a row") != std::string::npos);
  CHECK(r.log.find("infra error: ") != std::string::npos);  // printed as they happen
  CHECK(r.log.find("--resume") != std::string::npos);
  auto eps = records(out);
  CHECK(eps.size() == 3);  // of 9: the rest were not started
  json s = json::parse(slurp(out + "/summary.json"));
  CHECK(s["infra_error_episodes"] == 3);
  CHECK(s["episodes"] == 0);
  CHECK(s["instances"] == 0);
  CHECK(s["pass_at_k"].empty());
  CHECK(slurp(out + "/predictions.jsonl").empty());
  CHECK(s["episodes_not_run"] == 6);
  CHECK(slurp(out + "/summary.md").find("infra error (endpoint)") != std::string::npos);
  CHECK(slurp(out + "/summary.md").find("**Stopped early (the endpoint failed repeatedly): 6 episodes not run") !=
        std::string::npos);
}

TEST_CASE("an endpoint in trouble is printed at its first retry, not only when an episode gives up") {
  SWEBOX_REQUIRE_FIXTURE();
  ModelServer m;
  m.served = {"m1"};
  std::atomic<int> replies{0};
  m.reply = [&](const std::string&) {
    if (replies++ == 0) return ScriptedReply{503, R"({"error":"overloaded"})", 0};
    return bash_reply();
  };
  std::string out = scratch("retry-note");
  Ran r = run(out, m.policy(), {"--quiet", "--max-turns", "1", "--no-eval", "--instances", "swebox-fixtures__calc-1"});
  INFO(r.log);
  CHECK(r.rc == 0);  // the retry succeeded: the model's result
  CHECK(std::regex_search(r.log, std::regex(R"(swebox run: endpoint: server said 503: \{"error":"overloaded"\}; )"
                                            R"(retrying in [0-9.]+ s \(attempt 2 of 7\))")));
  auto eps = records(out);
  REQUIRE(eps.size() == 1);
  CHECK(eps[0].outcome() == traj::Outcome::model);
}

TEST_CASE("infra errors are out of pass@k and exit 3, and --resume runs them again and the newest record counts") {
  SWEBOX_REQUIRE_FIXTURE();
  ModelServer m;
  m.served = {"m1"};
  std::atomic<bool> textkit_broken{true};
  m.reply = [&](const std::string& instance) {
    if (instance == "textkit-1" && textkit_broken) return ScriptedReply{400, R"({"error":"bad request"})", 0};
    return bash_reply();
  };
  std::string out = scratch("infra");
  Ran first = run(out, m.policy(), {"--quiet", "--max-turns", "1", "--no-eval"});
  INFO(first.log);
  CHECK(first.rc == 3);
  CHECK(first.log.find("infra error: swebox-fixtures__textkit-1 sample 0 (endpoint)") != std::string::npos);
  json s = json::parse(slurp(out + "/summary.json"));
  CHECK(s["episodes"] == 2);
  CHECK(s["instances"] == 2);
  CHECK(s["infra_error_episodes"] == 1);
  CHECK(s["infra_errors"][0]["instance_id"] == "swebox-fixtures__textkit-1");
  CHECK(s["infra_errors"][0]["reason"].get<std::string>().find("server said 400") != std::string::npos);
  CHECK(s["infra_error_only_ids"] == json::array({"swebox-fixtures__textkit-1"}));
  CHECK(s["error_ids"] == json::array({"swebox-fixtures__textkit-1"}));
  auto preds = traj::read_jsonl(out + "/predictions.jsonl");
  CHECK(preds.size() == 2);
  for (const json& p : preds) CHECK(p["instance_id"] != "swebox-fixtures__textkit-1");
  auto eps = records(out);
  REQUIRE(eps.size() == 3);
  for (const auto& e : eps)
    CHECK(json::parse(traj::dump_line(traj::to_json(e)))["terminal"]["outcome"] ==
          (e.instance_id == "swebox-fixtures__textkit-1" ? "infra_error" : "model"));

  // --no-retry-errors keeps it: nothing to run.
  int chats = m.chats;
  Ran keep = run(out, m.policy(), {"--quiet", "--max-turns", "1", "--no-eval", "--resume", "--no-retry-errors"});
  INFO(keep.log);
  CHECK(keep.rc == 3);
  CHECK(m.chats == chats);

  // The endpoint is fixed: a plain --resume runs only the infra error again.
  textkit_broken = false;
  Ran again = run(out, m.policy(), {"--quiet", "--max-turns", "1", "--no-eval", "--resume"});
  INFO(again.log);
  CHECK(again.rc == 0);
  CHECK(again.log.find("(1 infra errors again)") != std::string::npos);
  CHECK(m.chats == chats + 1);
  CHECK(records(out).size() == 4);  // appended, never rewritten
  json s2 = json::parse(slurp(out + "/summary.json"));
  CHECK(s2["episodes"] == 3);
  CHECK(s2["infra_error_episodes"] == 0);
  CHECK(traj::read_jsonl(out + "/predictions.jsonl").size() == 3);
}

TEST_CASE("--resume with another policy or config is refused naming each field, --force resumes and records it") {
  SWEBOX_REQUIRE_FIXTURE();
  std::string out = scratch("identity");
  Ran first = run(out, "oracle", {"--quiet", "--no-eval", "--instances", "swebox-fixtures__calc-1"});
  INFO(first.log);
  REQUIRE(first.rc == 0);
  json id = json::parse(slurp(out + "/run.json"))["identity"];
  CHECK(id["policy"] == "oracle");
  CHECK(id["suite"].get<std::string>().size() == 40);
  CHECK(id["config"]["max_turns"] == 128);

  std::string traj_before = slurp(out + "/trajectories.jsonl");
  Ran other = run(out, "replay:" + out + "/trajectories.jsonl", {"--quiet", "--no-eval", "--resume", "--max-turns", "64"});
  INFO(other.log);
  CHECK(other.rc == 1);
  CHECK(other.log.find("policy: recorded oracle, now replay:") != std::string::npos);
  CHECK(other.log.find("config.max_turns: recorded 128, now 64") != std::string::npos);
  CHECK(other.log.find("--force") != std::string::npos);
  CHECK(slurp(out + "/trajectories.jsonl") == traj_before);  // nothing written

  Ran forced = run(out, "oracle", {"--quiet", "--no-eval", "--resume", "--max-turns", "64", "--force"});
  INFO(forced.log);
  CHECK(forced.rc == 0);
  json rec = json::parse(slurp(out + "/run.json"));
  CHECK(rec["identity"]["config"]["max_turns"] == 64);
  CHECK(rec["forced_from"]["config"]["max_turns"] == 128);
}

TEST_CASE("a record without FAIL_TO_PASS is skipped and named, the others run, the exit status says so") {
  SWEBOX_REQUIRE_FIXTURE();
  std::string suite = scratch("missing-f2p.jsonl");
  {
    std::ifstream in(runner_fixture().suite);
    std::ofstream o(suite);
    std::string line;
    std::getline(in, line);
    o << line << "\n";
    json broken = json::parse(line);
    broken["instance_id"] = "swebox-fixtures__calc-99";
    broken.erase("FAIL_TO_PASS");
    o << broken.dump() << "\n";
  }
  std::string out = scratch("missing-f2p");
  Ran r = run(out, "oracle", {"--quiet", "--no-eval"}, suite);
  INFO(r.log);
  CHECK(r.rc == 3);
  CHECK(r.log.find("missing-f2p.jsonl:2 (swebox-fixtures__calc-99): missing field \"FAIL_TO_PASS\"") != std::string::npos);
  CHECK(records(out).size() == 1);
  json s = json::parse(slurp(out + "/summary.json"));
  CHECK(s["skipped_records"].size() == 1);

  Ran unknown =
      run(scratch("unknown-id"), "oracle", {"--quiet", "--instances", "swebox-fixtures__calc-1,nope-1,bad\xff"});
  INFO(unknown.log);
  CHECK(unknown.rc == 1);
  CHECK(unknown.log.find("--instances names ids that are not in") != std::string::npos);
  CHECK(unknown.log.find("nope-1") != std::string::npos);
  CHECK(unknown.log.find("bad\xef\xbf\xbd") != std::string::npos);  // an invalid byte is replaced (U+FFFD)
  CHECK(unknown.log.find("bad\xff") == std::string::npos);
}

TEST_CASE("Ctrl-C lets the episodes in flight finish, writes the outputs, prints --resume, and a second Ctrl-C stops at once") {
  SWEBOX_REQUIRE_FIXTURE();
  ModelServer m;
  m.served = {"m1"};
  m.reply = [](const std::string&) { return bash_reply(1000); };  // every turn takes 1 s, an episode 3 s
  std::string out = scratch("ctrl-c");
  auto& f = runner_fixture();
  std::vector<std::string> args = {"--suite", f.suite, "--repos", f.repos, "--out", out, "--cache", f.cache,
                                   "--policy", m.policy(), "--max-turns", "3", "--samples", "2", "-j", "2", "--no-eval"};
  setenv("SWEBOX_HEARTBEAT_S", "0.2", 1);
  pid_t pid = spawn_run(args, out + ".log", false);
  CHECK(wait_for_text(out + ".log", "in flight 2"));  // the heartbeat, off a terminal
  kill(pid, SIGINT);
  int rc = wait_exit(pid);
  std::string log = slurp(out + ".log");
  INFO(log);
  CHECK(rc == 130);
  CHECK(log.find("stopping: no new episode is started") != std::string::npos);
  CHECK(log.find("--resume") != std::string::npos);
  auto eps = records(out);
  CHECK(eps.size() >= 2);  // the two in flight finished
  CHECK(eps.size() < 6);
  for (const auto& e : eps) CHECK(e.terminal.status == traj::ExitStatus::max_turns);
  CHECK(fs::exists(out + "/predictions.jsonl"));
  json s = json::parse(slurp(out + "/summary.json"));
  CHECK(s["stopped"] == "interrupted, episodes in flight finished");
  CHECK(s["episodes_not_run"] == 6 - eps.size());
  CHECK(slurp(out + "/summary.md")
            .find("**Stopped early (interrupted, episodes in flight finished): " + std::to_string(6 - eps.size()) +
                  " episodes not run") != std::string::npos);

  // Twice: the episodes in flight are abandoned (they run again on resume).
  args.push_back("--resume");
  pid = spawn_run(args, out + ".log2", false);
  CHECK(wait_for_text(out + ".log2", "in flight 2"));
  kill(pid, SIGINT);
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  kill(pid, SIGINT);
  auto t0 = std::chrono::steady_clock::now();
  rc = wait_exit(pid);
  double waited = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::string log2 = slurp(out + ".log2");
  INFO(log2);
  CHECK(rc == 130);
  CHECK(waited < 2.0);  // not the 3 s the episodes in flight would take
  CHECK(log2.find("stopping now") != std::string::npos);
  CHECK(records(out).size() < 6);  // the abandoned ones left no record

  // The resume finishes the run: every episode exactly once.
  unsetenv("SWEBOX_HEARTBEAT_S");
  int final_rc = wait_exit(spawn_run(args, out + ".log3", false));
  INFO(slurp(out + ".log3"));
  CHECK(final_rc == 0);
  std::map<std::string, int> seen;
  for (const auto& e : records(out)) ++seen[traj::episode_key(e.instance_id, e.sample)];
  CHECK(seen.size() == 6);
  for (const auto& [k, n] : seen) CHECK(n == 1);
}

namespace {

// The fixture suite's records, by id (the good suite, then the bad one's well-formed lines).
std::map<std::string, json> fixture_records() {
  std::map<std::string, json> recs;
  for (const std::string& file : {runner_fixture().suite, runner_fixture().dir + "/bad-suite.jsonl"}) {
    std::ifstream in(file);
    for (std::string line; std::getline(in, line);) try {
        json r = json::parse(line);
        recs.emplace(r["instance_id"].get<std::string>(), r);
      } catch (const json::exception&) {
      }
  }
  return recs;
}

std::string write_suite(const std::string& name, const std::vector<json>& records) {
  std::string path = scratch(name);
  std::ofstream o(path);
  for (const json& r : records) o << r.dump() << "\n";
  return path;
}

}  // namespace

TEST_CASE(
    "run refuses an empty problem statement or an unsupported environment up front, skips a record without "
    "PASS_TO_PASS or with invalid UTF-8, runs an explicit empty list") {
  SWEBOX_REQUIRE_FIXTURE();
  auto recs = fixture_records();
  json blank = recs.at("swebox-fixtures__calc-1");
  blank["problem_statement"] = " \n";
  std::string out = scratch("no-statement");
  Ran r = run(out, "oracle", {"--quiet", "--no-eval"},
              write_suite("no-statement.jsonl", {blank, recs.at("swebox-fixtures__calc-2")}));
  INFO(r.log);
  CHECK(r.rc == 1);
  CHECK(r.log.find("preflight failed, no episode was run") != std::string::npos);
  CHECK(r.log.find("no problem statement (the agent's task) in 1 instance: swebox-fixtures__calc-1") !=
        std::string::npos);
  CHECK(records(out).empty());
  CHECK(!fs::exists(out + "/run.json"));

  // A version the environments table marks unsupported, and one it has no entry for.
  json unsupported = recs.at("swebox-fixtures__calc-1"), unknown = recs.at("swebox-fixtures__calc-2");
  unsupported["version"] = "8.8";
  unknown["repo"] = "swebox-fixtures/unlisted";
  out = scratch("no-env");
  Ran env = run(out, "oracle", {"--quiet"}, write_suite("no-env.jsonl", {unsupported, unknown}));
  INFO(env.log);
  CHECK(env.rc == 1);
  CHECK(env.log.find("preflight failed, no episode was run") != std::string::npos);
  CHECK(env.log.find("swebox-fixtures/calc 8.8 is not supported here") != std::string::npos);
  CHECK(env.log.find("no environment for swebox-fixtures/unlisted version 1.0") != std::string::npos);
  CHECK(records(out).empty());

  json no_p2p = recs.at("swebox-fixtures__calc-1");
  no_p2p.erase("PASS_TO_PASS");
  json empty_p2p = recs.at("swebox-fixtures__calc-2");
  empty_p2p["PASS_TO_PASS"] = json::array();
  out = scratch("p2p");
  std::string p2p_suite = write_suite("p2p.jsonl", {no_p2p, empty_p2p});
  std::ofstream(p2p_suite, std::ios::app | std::ios::binary)
      << "{\"instance_id\": \"bad\xff\xfe\", \"repo\": \"x/y\"}\n";
  Ran p = run(out, "oracle", {"--quiet"}, p2p_suite);
  INFO(p.log);
  CHECK(p.rc == 3);  // finished, but a record was skipped
  CHECK(p.log.find("p2p.jsonl:1 (swebox-fixtures__calc-1): missing field \"PASS_TO_PASS\"") != std::string::npos);
  auto eps = records(out);
  REQUIRE(eps.size() == 1);
  CHECK(eps[0].instance_id == "swebox-fixtures__calc-2");
  CHECK(eps[0].resolved());  // graded on FAIL_TO_PASS alone
  json s = json::parse(slurp(out + "/summary.json"));
  REQUIRE(s["skipped_records"].size() == 2);
  CHECK(s["skipped_records"][1].get<std::string>().find("p2p.jsonl:3: invalid JSON") != std::string::npos);
  CHECK(s["skipped_records"][1].get<std::string>().find("\xef\xbf\xbd") != std::string::npos);  // U+FFFD, not a crash
  CHECK(s["resolved_ids"] == json::array({"swebox-fixtures__calc-2"}));
}

TEST_CASE(
    "a test run that cannot be graded is ambiguous in the record, the summary, summary.md and SWE-bench's report") {
  SWEBOX_REQUIRE_FIXTURE();
  auto recs = fixture_records();
  std::string out = scratch("ambiguous");
  Ran r = run(out, "oracle", {"--quiet"},
              write_suite("ambiguous.jsonl",
                          {recs.at("swebox-fixtures__calc-1"), recs.at("swebox-fixtures__calc-malformed-log")}));
  INFO(r.log);
  // The model's result (a log with no test results counts as unresolved, as in SWE-bench), kept
  // apart from the resolved ones and from infra errors in every output.
  CHECK(r.rc == 0);
  auto eps = records(out);
  REQUIRE(eps.size() == 2);
  for (const auto& e : eps)
    CHECK(e.outcome() ==
          (e.instance_id == "swebox-fixtures__calc-malformed-log" ? traj::Outcome::ambiguous : traj::Outcome::model));
  json s = json::parse(slurp(out + "/summary.json"));
  CHECK(s["ambiguous_ids"] == json::array({"swebox-fixtures__calc-malformed-log"}));
  CHECK(s["resolved_ids"] == json::array({"swebox-fixtures__calc-1"}));
  CHECK(s["infra_error_episodes"] == 0);
  CHECK(s["pass_at_k"]["pass@1"] == 0.5);
  std::string md = slurp(out + "/summary.md");
  CHECK(md.find("| ambiguous (test log not gradeable) | 1 | swebox-fixtures__calc-malformed-log |") !=
        std::string::npos);
  CHECK(md.find("| resolved | 1 | swebox-fixtures__calc-1 |") != std::string::npos);
  CHECK(md.find("pass@k over 2 instances (the model's episodes; infra errors left out): pass@1 = 0.500") !=
        std::string::npos);
  json report = json::parse(slurp(s["swebench_report"].get<std::string>()));
  CHECK(report["ambiguous_failure_ids"] == json::array({"swebox-fixtures__calc-malformed-log"}));
  CHECK(report["resolved_ids"] == json::array({"swebox-fixtures__calc-1"}));
  CHECK(report["error_ids"].empty());
}

TEST_CASE(
    "on a terminal: a start line, a live line rewritten every second with each episode's turn, and the summary table "
    "at the end") {
  SWEBOX_REQUIRE_FIXTURE();
  ModelServer m;
  m.served = {"m1"};
  m.reply = [](const std::string&) { return bash_reply(1000); };  // every turn takes 1 s, an episode 3 s
  std::string out = scratch("tty");
  auto& f = runner_fixture();
  std::vector<std::string> args = {"run",   "--suite",  f.suite,    "--repos",     f.repos, "--out", out, "--cache",
                                   f.cache, "--policy", m.policy(), "--max-turns", "3",     "-j",    "2", "--no-eval"};
  int master = -1;
  pid_t pid = forkpty(&master, nullptr, nullptr, nullptr);
  REQUIRE(pid >= 0);
  if (pid == 0) {
    std::vector<char*> argv;
    static std::string bin = SWEBOX_BINARY;
    argv.push_back(bin.data());
    for (std::string& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    execv(bin.c_str(), argv.data());
    _exit(127);
  }
  std::string screen;
  char buf[4096];
  for (ssize_t n; (n = read(master, buf, sizeof buf)) > 0;)
    screen.append(buf, static_cast<size_t>(n));  // EIO at the end
  close(master);
  int rc = wait_exit(pid);
  INFO(screen);
  CHECK(rc == 0);
  CHECK(screen.find("swebox run: 3 episodes to run, 2 in flight at most, output in " + out) != std::string::npos);
  // The live line: rewritten in place ("\r" + erase line), at least once a second over the ~6 s run.
  size_t rewrites = 0;
  for (size_t p = 0; (p = screen.find("\r\033[K[", p)) != std::string::npos; ++p) ++rewrites;
  CHECK(rewrites >= 4);
  std::regex live(R"(\[0/3\] not evaluated \| infra errors 0 \| in flight 2 swebox-fixtures__calc-\d t[1-3], )"
                  R"(swebox-fixtures__calc-\d t[1-3] \| [0-9hms]+ \| [0-9.]+/min \| ETA \? \| \d+ tokens)");
  CHECK(std::regex_search(screen, live));
  CHECK(std::regex_search(screen, std::regex(R"(\[2/3\] .* \| ETA [0-9hms]+ \| )")));
  // The end: the summary table, as written to summary.md.
  std::string md = slurp(out + "/summary.md");
  CHECK(md.find("| status | episodes | examples |") != std::string::npos);
  // --no-eval: no test ran, so no resolution and no pass@k (a 0 % would read as the model's).
  CHECK(md.find("| not evaluated: max_turns | 3 |") != std::string::npos);
  CHECK(md.find("pass@k: none, the tests were not run (--no-eval)") != std::string::npos);
  json s = json::parse(slurp(out + "/summary.json"));
  CHECK(s["evaluated"] == false);
  CHECK(s["pass_at_k"].empty());
  CHECK(!s.contains("resolved_ids"));
  CHECK(md.find("- trajectories: " + out + "/trajectories.jsonl") != std::string::npos);
  std::string printed = screen;
  for (size_t p; (p = printed.find("\r\n")) != std::string::npos;) printed.replace(p, 2, "\n");  // the tty's newlines
  CHECK(printed.find(md) != std::string::npos);
}

TEST_CASE("swebox export reports a torn last line, exports the whole records, and leaves its input as it was") {
  SWEBOX_REQUIRE_FIXTURE();
  std::string out = scratch("export-torn");
  Ran r = run(out, "oracle", {"--quiet", "--no-eval"});
  REQUIRE(r.rc == 0);
  std::string traj_path = out + "/trajectories.jsonl";
  {
    std::ofstream o(traj_path, std::ios::app);
    o << R"({"instance_id": "swebox-fixtures__calc-1", "sample": 1, "turns": [{"act)";  // a crash mid-write
  }
  std::string before = slurp(traj_path);
  std::string cmd = std::string(SWEBOX_BINARY) + " export --format predictions " + traj_path + " " + out +
                    "/exported.jsonl > " + out + "/export.log 2>&1";
  int status = std::system(cmd.c_str());
  std::string log = slurp(out + "/export.log");
  INFO(log);
  CHECK(WEXITSTATUS(status) == 0);
  CHECK(log.find(traj_path + ": the last line is incomplete (torn, or still being written); skipped") !=
        std::string::npos);
  CHECK(log.find("3 records -> " + out + "/exported.jsonl") != std::string::npos);
  CHECK(traj::read_jsonl(out + "/exported.jsonl").size() == 3);
  CHECK(slurp(traj_path) == before);  // export reads; only the run's writer repairs its file
}
