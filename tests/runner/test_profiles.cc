// Issue 14's profiles through the real `swebox run`: the profile and the template set in the run's
// identity and in every record, --resume with another profile refused without --force, and the
// format-error rules each profile gives (strict by default under cwm, no cap when lenient there;
// lenient with a cap of 3 in a row under swebox).
#include <doctest/doctest.h>

#include <atomic>
#include <fstream>

#include "run_command.h"
#include "runner_fixture.h"
#include "stub_openai_server.h"
#include "trajectories/writer.h"

using namespace swebox;
using nlohmann::json;
using swebox::test::Ran;
using swebox::test::run_on_fixture;
using swebox::test::scratch;
using swebox::test::ScriptedReply;
using swebox::test::StubOpenAIServer;

namespace {

const std::vector<std::string> kOneTask = {"--quiet", "--no-eval", "--instances", "swebox-fixtures__calc-1"};

std::vector<std::string> with(std::vector<std::string> a, const std::vector<std::string>& more) {
  a.insert(a.end(), more.begin(), more.end());
  return a;
}

// A server whose every reply is `text` (no tool call in it: a format error), counting the requests.
struct FormatErrorServer {
  std::atomic<int> chats{0};
  StubOpenAIServer server{[this](const std::string& target, const json&) -> ScriptedReply {
    if (target.size() >= 7 && target.substr(target.size() - 7) == "/models") return {404, "{}", 0};
    ++chats;
    return {200, swebox::test::chat_reply("I will look around first."), 0};
  }};
  std::string policy() { return "openai:" + server.url() + "#m1"; }
};

}  // namespace

TEST_CASE("the profile and the template set are in the run's identity and every record") {
  SWEBOX_REQUIRE_FIXTURE();
  std::string out = scratch("profile-cwm");
  Ran r = run_on_fixture(out, "oracle", with(kOneTask, {"--profile", "cwm"}));
  INFO(r.log);
  REQUIRE(r.rc == 0);
  json id = json::parse(test::slurp(out + "/run.json"))["identity"];
  CHECK(id["profile"] == "cwm");
  CHECK(id["config"]["profile"] == "cwm");
  CHECK(id["config"]["format"] == "strict");
  auto recs = traj::read_trajectories(out + "/trajectories.jsonl");
  REQUIRE(recs.size() == 1);
  CHECK(recs[0].profile == "cwm");
  CHECK(recs[0].templates["set"] == "shipped");
  CHECK(recs[0].templates["content_id"] == id["templates"]);
  CHECK(recs[0].config["profile"] == "cwm");

  std::string plain = scratch("profile-default");
  Ran d = run_on_fixture(plain, "oracle", kOneTask);
  INFO(d.log);
  REQUIRE(d.rc == 0);
  auto drecs = traj::read_trajectories(plain + "/trajectories.jsonl");
  REQUIRE(drecs.size() == 1);
  CHECK(drecs[0].profile == "swebox");
  CHECK(drecs[0].config["format"] == "lenient");
  CHECK(json::parse(test::slurp(plain + "/run.json"))["identity"]["profile"] == "swebox");
}

TEST_CASE("--resume with another profile is refused naming it, --force resumes, a run.json from before profiles is the swebox profile") {
  SWEBOX_REQUIRE_FIXTURE();
  std::string out = scratch("profile-resume");
  Ran first = run_on_fixture(out, "oracle", kOneTask);
  INFO(first.log);
  REQUIRE(first.rc == 0);
  // As recorded before profiles existed: no profile anywhere in the identity.
  json file = json::parse(test::slurp(out + "/run.json"));
  file["identity"].erase("profile");
  file["identity"]["config"].erase("profile");
  {
    std::ofstream(out + "/run.json") << file.dump(2);
  }
  Ran same = run_on_fixture(out, "oracle", {"--quiet", "--no-eval", "--resume"});
  INFO(same.log);
  CHECK(same.rc == 0);
  CHECK(same.log.find("different identity") == std::string::npos);

  std::string before = test::slurp(out + "/trajectories.jsonl");
  Ran other = run_on_fixture(out, "oracle", {"--quiet", "--no-eval", "--resume", "--profile", "cwm"});
  INFO(other.log);
  CHECK(other.rc == 1);
  CHECK(other.log.find("profile: recorded swebox, now cwm") != std::string::npos);
  CHECK(other.log.find("config.profile: recorded swebox, now cwm") != std::string::npos);
  CHECK(test::slurp(out + "/trajectories.jsonl") == before);
  Ran forced = run_on_fixture(out, "oracle", {"--quiet", "--no-eval", "--resume", "--profile", "cwm", "--force"});
  INFO(forced.log);
  CHECK(forced.rc == 0);
  CHECK(json::parse(test::slurp(out + "/run.json"))["identity"]["profile"] == "cwm");
}

TEST_CASE("--profile takes swebox or cwm, and --strict with --lenient is a usage error") {
  SWEBOX_REQUIRE_FIXTURE();
  Ran bad = run_on_fixture(scratch("profile-bad"), "oracle", with(kOneTask, {"--profile", "mini"}));
  CHECK(bad.rc == 2);
  CHECK(bad.log.find("--profile") != std::string::npos);
  CHECK(bad.log.find("mini") != std::string::npos);
  Ran both = run_on_fixture(scratch("profile-both"), "oracle", with(kOneTask, {"--strict", "--lenient"}));
  CHECK(both.rc == 2);
}

TEST_CASE("format errors: cwm is strict by default and has no cap when lenient, swebox stops at 3 in a row") {
  SWEBOX_REQUIRE_FIXTURE();
  auto one = [](const std::string& name, const std::vector<std::string>& flags, int& chats) {
    FormatErrorServer s;
    std::string out = scratch(name);
    Ran r = run_on_fixture(out, s.policy(), with(with(kOneTask, {"--max-turns", "8"}), flags));
    INFO(r.log);
    CHECK(r.rc == 0);
    auto recs = traj::read_trajectories(out + "/trajectories.jsonl");
    REQUIRE(recs.size() == 1);
    chats = s.chats;
    return recs[0];
  };
  int chats = 0;
  traj::Episode strict = one("fmt-cwm", {"--profile", "cwm"}, chats);
  CHECK(strict.terminal.status == traj::ExitStatus::format_error);
  CHECK(strict.turns.size() == 1);
  CHECK(chats == 1);
  CHECK(strict.config["format"] == "strict");

  traj::Episode uncapped = one("fmt-cwm-lenient", {"--profile", "cwm", "--lenient"}, chats);
  CHECK(uncapped.terminal.status == traj::ExitStatus::max_turns);  // 7 format errors in a row, then the turn limit
  CHECK(uncapped.turns.size() == 8);
  CHECK(chats == 8);
  for (size_t i = 0; i + 1 < uncapped.turns.size(); ++i) {
    CHECK(uncapped.turns[i].parse_error.has_value());
    CHECK(!uncapped.turns[i].observation.text.empty());  // the error went back to the model
  }
  CHECK(uncapped.config["max_format_errors"] == 0);

  traj::Episode capped = one("fmt-swebox", {}, chats);
  CHECK(capped.terminal.status == traj::ExitStatus::format_error);
  CHECK(capped.turns.size() == 3);
  CHECK(capped.terminal.reason.find("3 format errors in a row") != std::string::npos);

  traj::Episode strict_swebox = one("fmt-swebox-strict", {"--strict"}, chats);
  CHECK(strict_swebox.terminal.status == traj::ExitStatus::format_error);
  CHECK(strict_swebox.turns.size() == 1);
}

// ---- what the server is sent is what is recorded (profile cwm), through the real `swebox run`

namespace {

std::string strip_ws(const std::string& s) {
  size_t b = s.find_first_not_of(" \t\n\r\f\v"), e = s.find_last_not_of(" \t\n\r\f\v");
  return b == std::string::npos ? "" : s.substr(b, e - b + 1);
}

// The token-stream text CWM's server (fgserve) makes of a chat request, following its rules as read
// in its public code: "<|begin_of_text|>", every message as header + body + <|eot_id|> (bodies
// stripped except a tool's; a tool message's header "tool: " + its tool_call_id without the last 33
// characters), a final assistant message as an open generation prefix (not stripped), otherwise
// the assistant header, and "<think>\n" after it when reasoning is enabled.
std::string fgserve_rendering(const json& request) {
  auto header = [](const std::string& role) { return "<|start_header_id|>" + role + "<|end_header_id|>\n\n"; };
  const json& msgs = request.at("messages");
  std::string s = "<|begin_of_text|>";
  for (size_t i = 0; i < msgs.size(); ++i) {
    const json& m = msgs[i];
    std::string role = m.at("role"), body = m.at("content");
    if (i + 1 == msgs.size() && role == "assistant") return s + header(role) + body;
    std::string source = role;
    if (role == "tool") {
      std::string id = m.at("tool_call_id");
      source = "tool: " + id.substr(0, id.size() - 33);
    }
    s += header(source) + (role == "tool" ? body : strip_ws(body)) + "<|eot_id|>";
  }
  s += header("assistant");
  if (request.contains("reasoning") && request["reasoning"].value("enabled", false)) s += "<think>\n";
  return s;
}

// The recorded context before turn k (0-based): the prompt, then k actions and observations.
std::string context_before(const traj::Episode& e, size_t k) {
  std::string s = e.prompt_text;
  for (size_t i = 0; i < k && i < e.turns.size(); ++i) s += e.turns[i].action.text + e.turns[i].observation.text;
  return s;
}

struct ScriptedModel {
  bool completions;
  std::vector<json> chat;          // message objects (content, reasoning_content)
  std::vector<std::string> texts;  // completions texts
  std::atomic<size_t> calls{0};
  StubOpenAIServer server{[this](const std::string& target, const json&) -> ScriptedReply {
    if (target.size() >= 7 && target.substr(target.size() - 7) == "/models") return {404, "{}", 0};
    size_t i = calls++;
    json usage = {{"prompt_tokens", 10}, {"completion_tokens", 5}};
    if (completions) {
      std::string t = texts[std::min(i, texts.size() - 1)];
      return {200, json{{"choices", {{{"text", t}, {"finish_reason", "stop"}}}}, {"usage", usage}}.dump(), 0};
    }
    json m = chat[std::min(i, chat.size() - 1)];
    m["role"] = "assistant";
    return {200, json{{"choices", {{{"index", 0}, {"message", m}}}}, {"usage", usage}}.dump(), 0};  // fgserve: no finish_reason
  }};
};

const char* kBash1 = "<tool: bash>\necho hi\n</tool>";
const char* kBash2 = "<tool: bash>\nprintf 'a\\n\\n'\n</tool>";

// Runs 4 turns (a call, a format error, a call, the turn limit) under --profile cwm and checks
// every request against the record. `think` is off | tag | token.
void check_sent_is_recorded(bool completions, const std::string& think) {
  ScriptedModel model{completions, {}, {}};
  std::string end = think == "tag" ? "\n</think>\n" : think == "token" ? "<|reasoning_thinking_end|>" : "";
  auto full = [&](const std::string& reasoning, const std::string& answer) {
    return think == "off" ? answer : reasoning + end + answer;
  };
  // Turn 1 split by a reasoning server (tag mode), turn 3 whole; a completions server that kept the
  // end token (include_stop_str_in_output) on turn 3.
  if (think == "tag")
    model.chat = {{{"reasoning_content", "Look first."}, {"content", kBash1}},
                  {{"reasoning_content", "Hmm."}, {"content", "no call here"}},
                  {{"content", full("Then this.", kBash2)}}};
  else
    model.chat = {{{"content", full("Look first.", kBash1)}}, {{"content", full("Hmm.", "no call here")}},
                  {{"content", full("Then this.", kBash2)}}};
  model.texts = {full("Look first.", kBash1), full("Hmm.", "no call here"), full("Then this.", kBash2) + "<|eot_id|>"};
  std::string out = scratch(std::string("sent-") + (completions ? "completions-" : "chat-") + think);
  std::string policy = "openai:" + model.server.url() + (completions ? "?api=completions" : "") + "#m1";
  Ran r = run_on_fixture(out, policy, with(kOneTask, {"--profile", "cwm", "--lenient", "--max-turns", "4", "--think", think}));
  INFO(r.log);
  REQUIRE(r.rc == 0);
  auto recs = traj::read_trajectories(out + "/trajectories.jsonl");
  REQUIRE(recs.size() == 1);
  const traj::Episode& e = recs[0];
  CHECK(e.terminal.status == traj::ExitStatus::max_turns);
  REQUIRE(e.turns.size() == 4);
  CHECK(e.turns[0].call.has_value());
  CHECK(e.turns[1].parse_error.has_value());
  CHECK(e.turns[2].call.has_value());
  // The end token ends each action, never starts an observation.
  for (size_t i = 0; i < 3; ++i) {
    INFO("turn " << i + 1);
    CHECK(e.turns[i].action.text.size() > 10);
    CHECK(e.turns[i].action.text.substr(e.turns[i].action.text.size() - 10) == "<|eot_id|>");
    CHECK(e.turns[i].observation.text.rfind("<|start_header_id|>", 0) == 0);
  }
  CHECK(e.turns[0].action.text == full("Look first.", kBash1) + "<|eot_id|>");
  CHECK(e.turns[0].action.end_token_added);
  CHECK(e.turns[2].action.end_token_added == !completions);  // the completions server returned it
  if (think == "tag" && !completions) CHECK(e.turns[0].action.reasoning == "Look first.");
  CHECK(e.turns[0].observation.text.rfind("<|start_header_id|>tool: bash<|end_header_id|>\n\n", 0) == 0);

  auto requests = model.server.requests();
  std::vector<json> posts;
  for (size_t i = 0; i < requests.size(); ++i)
    if (model.server.targets()[i].find("/models") == std::string::npos) posts.push_back(requests[i]);
  REQUIRE(posts.size() == 4);
  for (size_t k = 0; k < posts.size(); ++k) {
    INFO("request " << k);
    std::string sent = completions ? posts[k].at("prompt").get<std::string>() : fgserve_rendering(posts[k]);
    CHECK(sent == context_before(e, k));
    CHECK(posts[k]["skip_special_tokens"] == false);
    CHECK(posts[k]["max_tokens"] == 65536);  // max_action_len: cut as generated
    if (completions) CHECK(posts[k]["add_special_tokens"] == false);
  }
  if (!completions && think == "off") {
    // The tool result goes as a tool message, the format error as the user message it was.
    const json& m = posts[3]["messages"];
    CHECK(m[3]["role"] == "tool");
    CHECK(m[5]["role"] == "user");
  }
}

}  // namespace

TEST_CASE("profile cwm: a chat server is sent exactly the recorded context, think off") {
  SWEBOX_REQUIRE_FIXTURE();
  check_sent_is_recorded(false, "off");
}
TEST_CASE("profile cwm: a chat server is sent exactly the recorded context, think tag with reasoning_content") {
  SWEBOX_REQUIRE_FIXTURE();
  check_sent_is_recorded(false, "tag");
  // A replay of the recorded cwm episode meets the same observations, byte for byte.
  std::string out = scratch("sent-chat-tag-replay");
  Ran r = run_on_fixture(out, "replay:" + scratch("sent-chat-tag") + "/trajectories.jsonl",
                         with(kOneTask, {"--profile", "cwm", "--lenient", "--max-turns", "4", "--think", "tag"}));
  INFO(r.log);
  REQUIRE(r.rc == 0);
  auto recs = traj::read_trajectories(out + "/trajectories.jsonl");
  REQUIRE(recs.size() == 1);
  CHECK(recs[0].turns.size() == 4);
  CHECK(recs[0].extra["replay"]["matched"] == true);
  CHECK(recs[0].context_text() == traj::read_trajectories(scratch("sent-chat-tag") + "/trajectories.jsonl")[0].context_text());
}
TEST_CASE("profile cwm: a chat server is sent exactly the recorded context, think token") {
  SWEBOX_REQUIRE_FIXTURE();
  check_sent_is_recorded(false, "token");
}
TEST_CASE("profile cwm: a completions server is sent exactly the recorded token stream, think off") {
  SWEBOX_REQUIRE_FIXTURE();
  check_sent_is_recorded(true, "off");
}
TEST_CASE("profile cwm: a completions server is sent exactly the recorded token stream, think tag") {
  SWEBOX_REQUIRE_FIXTURE();
  check_sent_is_recorded(true, "tag");
}
TEST_CASE("profile cwm: a completions server is sent exactly the recorded token stream, think token") {
  SWEBOX_REQUIRE_FIXTURE();
  check_sent_is_recorded(true, "token");
}
