// The model:PATH policy: the embedded engine continuing an episode's conversation.
#include <doctest/doctest.h>

#include <filesystem>

#include "runner/policy.h"
#include "tools/observation.h"

using namespace swebox;
using namespace swebox::runner;

namespace {
const std::string kStories = SWEBOX_SHARED_DIR "/models/stories260K";
bool have_stories() {
  return std::filesystem::exists(kStories + "/stories260K.gguf") && std::filesystem::exists(kStories + "/tok512.bin");
}

struct Reply {
  std::optional<PolicyError> error;
  traj::Action action;
};
Reply next_action(Policy& policy, boost::asio::io_context& io, const traj::Episode& so_far, int sample = 0) {
  tasks::Instance instance;
  instance.instance_id = "owner__repo-1";
  auto session = policy.start({instance, sample});
  Reply reply;
  bool called = false;
  session->async_next(so_far, [&](std::optional<PolicyError> e, traj::Action a) {
    called = true;
    reply = {std::move(e), std::move(a)};
  });
  io.restart();
  io.run();  // returns once the handler ran: the request holds the io_context's work
  REQUIRE(called);
  return reply;
}
}  // namespace

TEST_CASE("model policy: stories260K continues the conversation with tokens and log-probs") {
  if (!have_stories()) {
    MESSAGE("SKIPPED: stories260K files are absent from " << kStories);
    return;
  }
  boost::asio::io_context io;
  PolicyOptions options;
  options.sampling = {{"max_tokens", 40}, {"temperature", 0.0}};
  auto policy = make_policy("model:" + kStories + "/stories260K.gguf?tokenizer=" + kStories + "/tok512.bin", io, options);
  CHECK(policy->model_name() == kStories + "/stories260K.gguf");
  CHECK(policy->sampling()["max_tokens"] == 40);
  traj::Episode episode;
  episode.system_prompt = "You are a storyteller.";
  episode.task_prompt = "Once upon a time";
  // As the episode loop records it: the policy is sent the recorded context (Episode::context_text).
  auto frame = [](traj::Episode& e) {
    e.prompt_text = tools::initial_prompt(e.system_prompt, e.task_prompt, tools::ObservationConfig{}).text;
  };
  frame(episode);
  Reply a = next_action(*policy, io, episode);
  REQUIRE_FALSE(a.error.has_value());
  CHECK(!a.action.text.empty());
  CHECK(a.action.tokens.size() == 40);
  CHECK(a.action.logprobs.size() == 40);
  CHECK(a.action.finish_reason == "length");
  CHECK(a.action.usage.completion_tokens == 40);
  CHECK(a.action.usage.prompt_tokens > 20);
  for (double lp : a.action.logprobs) CHECK(lp <= 0.0);
  // Greedy: the same conversation, the same reply.
  CHECK(next_action(*policy, io, episode).action.text == a.action.text);

  // A stop string ends the reply before it.
  options.sampling["stop"] = {" "};
  auto stopping = make_policy("model:" + kStories + "/stories260K.gguf?tokenizer=" + kStories + "/tok512.bin", io, options);
  Reply s = next_action(*stopping, io, episode);
  REQUIRE_FALSE(s.error.has_value());
  CHECK(s.action.finish_reason == "stop");
  CHECK(s.action.text.find(' ') == std::string::npos);
  CHECK(s.action.tokens.size() < 40);

  // A conversation longer than the context is the context_exceeded error, not a crash.
  episode.task_prompt = std::string(3000, 'a');
  frame(episode);
  Reply long_one = next_action(*policy, io, episode);
  REQUIRE(long_one.error.has_value());
  CHECK(long_one.error->kind == PolicyError::Kind::context_exceeded);
}

TEST_CASE("model policy: a checkpoint without a tokenizer, or a bad sampling value, is refused up front") {
  if (!have_stories()) {
    MESSAGE("SKIPPED: stories260K files are absent from " << kStories);
    return;
  }
  boost::asio::io_context io;
  CHECK_THROWS_WITH_AS(make_policy("model:" + kStories + "/stories260K.bin", io),
                       doctest::Contains("holds no vocabulary: name its tokenizer.bin with ?tokenizer=FILE"), PolicySpecError);
  PolicyOptions options;
  options.sampling = {{"top_p", 0.0}};
  CHECK_THROWS_WITH_AS(make_policy("model:" + kStories + "/stories260K.bin?tokenizer=" + kStories + "/tok512.bin", io, options),
                       doctest::Contains("top-p"), PolicySpecError);
}
