#include <doctest/doctest.h>

#include <chrono>

#include "runner/policy.h"
#include "stub_openai_server.h"

using namespace swebox;
using namespace swebox::runner;
using swebox::test::chat_reply;
using swebox::test::ScriptedReply;
using swebox::test::StubOpenAIServer;

namespace {

struct Outcome {
  std::optional<PolicyError> error;
  traj::Action action;
  double seconds = 0;
};

Outcome ask(const std::string& spec, const PolicyOptions& opt, const traj::Episode& so_far,
            tools::ThinkMode think = tools::ThinkMode::off) {
  boost::asio::io_context io;
  auto policy = make_policy(spec, io, opt);
  tasks::Instance inst;
  inst.instance_id = "a__b-1";
  auto session = policy->start({inst, 0, "/testbed", think, 0});
  Outcome out;
  bool called = false;
  auto t0 = std::chrono::steady_clock::now();
  session->async_next(so_far, [&](std::optional<PolicyError> e, traj::Action a) {
    called = true;
    out.error = std::move(e);
    out.action = std::move(a);
  });
  io.run();
  out.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  REQUIRE(called);
  return out;
}

traj::Episode conversation() {
  traj::Episode e;
  e.instance_id = "a__b-1";
  e.system_prompt = "sys";
  e.task_prompt = "task";
  traj::Turn t;
  t.action.text = "<tool: bash>\nls\n</tool>";
  t.observation.text = "a.py";
  e.turns.push_back(t);
  return e;
}

PolicyOptions fast_options() {
  PolicyOptions o;
  o.request_timeout_s = 1;
  o.max_retries = 3;
  o.backoff_initial_s = 0.05;
  o.backoff_max_s = 0.2;
  o.sampling = {{"temperature", 0.5}};
  return o;
}

}  // namespace

TEST_CASE("openai policy sends the conversation and reads text, tokens, logprobs and usage") {
  StubOpenAIServer server({{200, chat_reply("<tool: bash>\npwd\n</tool>", 123, 45)}});
  Outcome o = ask("openai:" + server.url() + "#tiny", fast_options(), conversation());
  REQUIRE(!o.error);
  CHECK(o.action.text == "<tool: bash>\npwd\n</tool>");
  CHECK(o.action.tokens == std::vector<int32_t>{7, 8});
  CHECK(o.action.logprobs == std::vector<double>{-0.5, -1.0});
  CHECK(o.action.usage.prompt_tokens == 123);
  CHECK(o.action.usage.completion_tokens == 45);
  CHECK(o.action.usage.api_calls == 1);
  CHECK(o.action.finish_reason == "stop");
  auto reqs = server.requests();
  REQUIRE(reqs.size() == 1);
  CHECK(server.targets()[0] == "/v1/chat/completions");
  CHECK(reqs[0]["model"] == "tiny");
  CHECK(reqs[0]["temperature"] == 0.5);
  const auto& m = reqs[0]["messages"];
  REQUIRE(m.size() == 4);
  CHECK(m[0]["role"] == "system");
  CHECK(m[2]["role"] == "assistant");
  CHECK(m[3]["content"] == "a.py");
}

TEST_CASE("openai policy reads out-of-range token counts as 0, not as an undefined conversion") {
  nlohmann::json reply = nlohmann::json::parse(chat_reply("ok"));
  reply["usage"] = {{"prompt_tokens", 1e300}, {"completion_tokens", -5}};
  StubOpenAIServer server({{200, reply.dump()}});
  Outcome o = ask("openai:" + server.url() + "#tiny", fast_options(), conversation());
  REQUIRE(!o.error);
  CHECK(o.action.text == "ok");
  CHECK(o.action.usage.prompt_tokens == 0);
  CHECK(o.action.usage.completion_tokens == 0);
}

TEST_CASE("openai policy reads a reply without finish_reason and keeps reasoning_content, in the action in think-tag mode") {
  // CWM's fgserve: no finish_reason in chat replies, the reasoning split out at "\n</think>\n".
  nlohmann::json reply = {{"choices", {{{"index", 0}, {"message", {{"role", "assistant"}, {"content", "<tool: bash>\nls\n</tool>"},
                                                                  {"reasoning_content", "Let me look."}}}}}}};
  StubOpenAIServer server({{200, reply.dump()}, {200, reply.dump()}});
  Outcome off = ask("openai:" + server.url() + "#m", fast_options(), conversation());
  REQUIRE(!off.error);
  CHECK(off.action.finish_reason == "");
  CHECK(off.action.text == "<tool: bash>\nls\n</tool>");
  CHECK(off.action.reasoning == "Let me look.");
  CHECK(!off.action.end_token_added);  // the swebox profile leaves the end token to the observation
  Outcome tag = ask("openai:" + server.url() + "#m", fast_options(), conversation(), tools::ThinkMode::tag);
  REQUIRE(!tag.error);
  CHECK(tag.action.text == "Let me look.\n</think>\n<tool: bash>\nls\n</tool>");
}

TEST_CASE("openai policy retries a 500 and a 429 then succeeds") {
  StubOpenAIServer server({{500, "boom"}, {429, "slow down"}, {200, chat_reply("ok")}});
  Outcome o = ask("openai:" + server.url() + "#m", fast_options(), conversation());
  REQUIRE(!o.error);
  CHECK(o.action.text == "ok");
  CHECK(server.requests().size() == 3);
}

TEST_CASE("openai policy gives up a slow reply at the timeout and retries") {
  StubOpenAIServer server({{200, chat_reply("late"), 1600}, {200, chat_reply("in time")}});
  PolicyOptions opt = fast_options();
  opt.request_timeout_s = 0.5;
  Outcome o = ask("openai:" + server.url() + "#m", opt, conversation());
  REQUIRE(!o.error);
  CHECK(o.action.text == "in time");
  CHECK(o.seconds >= 0.5);
}

TEST_CASE("openai policy reports unavailable after the last retry") {
  StubOpenAIServer server({{503, "down"}, {503, "down"}, {503, "down"}, {503, "down"}});
  Outcome o = ask("openai:" + server.url() + "#m", fast_options(), conversation());
  REQUIRE(o.error);
  CHECK(o.error->kind == PolicyError::Kind::unavailable);
  CHECK(o.error->message.find("503") != std::string::npos);
  CHECK(server.requests().size() == 4);
}

TEST_CASE("openai policy maps a context-length 400 to context_exceeded without retrying") {
  StubOpenAIServer server({{400, R"({"error":{"message":"This model's maximum context length is 8192 tokens"}})"}});
  Outcome o = ask("openai:" + server.url() + "#m", fast_options(), conversation());
  REQUIRE(o.error);
  CHECK(o.error->kind == PolicyError::Kind::context_exceeded);
  CHECK(server.requests().size() == 1);
}

TEST_CASE("openai policy retries a refused connection and then fails clearly") {
  unsigned short dead_port;
  {
    boost::asio::io_context io;
    boost::asio::ip::tcp::acceptor a(io, {boost::asio::ip::make_address("127.0.0.1"), 0});
    dead_port = a.local_endpoint().port();
  }
  PolicyOptions opt = fast_options();
  opt.max_retries = 1;
  Outcome o = ask("openai:http://127.0.0.1:" + std::to_string(dead_port) + "/v1#m", opt, conversation());
  REQUIRE(o.error);
  CHECK(o.error->kind == PolicyError::Kind::unavailable);
  CHECK(o.error->message.find("connect") != std::string::npos);
}

TEST_CASE("openai completions API sends the recorded token stream byte for byte and reads token logprobs") {
  nlohmann::json reply = {{"choices", {{{"text", "<tool: bash>\nls\n</tool>"}, {"finish_reason", "stop"},
                                        {"logprobs", {{"tokens", {"token_id:5"}}, {"token_logprobs", {-0.25}}}}}}},
                          {"usage", {{"prompt_tokens", 9}, {"completion_tokens", 1}}}};
  StubOpenAIServer server({{200, reply.dump()}});
  traj::Episode e = conversation();
  e.prompt_text = "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nsys<|eot_id|>"
                  "<|start_header_id|>user<|end_header_id|>\n\ntask<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n";
  e.turns[0].observation.text = "<|eot_id|><|start_header_id|>tool: bash<|end_header_id|>\n\n<output>\na.py\n</output>"
                                "<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n";
  Outcome o = ask("openai:" + server.url() + "?api=completions#m", fast_options(), e);
  REQUIRE(!o.error);
  CHECK(o.action.tokens == std::vector<int32_t>{5});
  CHECK(o.action.text == "<tool: bash>\nls\n</tool>");  // the swebox profile adds no end token
  CHECK(server.targets()[0] == "/v1/completions");
  CHECK(server.requests()[0]["prompt"] == e.prompt_text + e.turns[0].action.text + e.turns[0].observation.text);
  CHECK(!server.requests()[0].contains("skip_special_tokens"));  // the swebox profile sends no server extensions
}

TEST_CASE("bad policy specs are refused with the accepted forms") {
  boost::asio::io_context io;
  CHECK_THROWS_WITH_AS(make_policy("gpt4", io), doctest::Contains("openai:URL"), PolicySpecError);
  CHECK_THROWS_WITH_AS(make_policy("openai:https://api.openai.com/v1", io), doctest::Contains("https"), PolicySpecError);
  CHECK_THROWS_WITH_AS(make_policy("openai:localhost:8000", io), doctest::Contains("http://HOST"), PolicySpecError);
  CHECK_THROWS_WITH_AS(make_policy("model:/weights/cwm", io), doctest::Contains("/weights/cwm: cannot open"), PolicySpecError);
  CHECK_THROWS_WITH_AS(make_policy("model:/weights/cwm?tokenizers=x", io), doctest::Contains("model:PATH[?tokenizer=FILE]"),
                       PolicySpecError);
}
