#include <doctest/doctest.h>

#include <boost/asio/post.hpp>

#include "runner/episode.h"
#include "runner/policy.h"
#include "runner_fixture.h"
#include "trajectories/writer.h"

using namespace swebox;
using namespace swebox::runner;
using swebox::test::fixture_instance;
using swebox::test::runner_fixture;

namespace {

// A policy whose replies are given by the test: the episode loop is what is under test.
class ScriptedPolicy : public Policy {
 public:
  ScriptedPolicy(boost::asio::io_context& io, std::vector<std::string> replies, bool repeat_last = true)
      : io_(io), replies_(std::move(replies)), repeat_last_(repeat_last) {}
  std::unique_ptr<PolicySession> start(const EpisodeStart&) override {
    struct Session : PolicySession {
      ScriptedPolicy* p;
      explicit Session(ScriptedPolicy* p) : p(p) {}
      void async_next(const traj::Episode& so_far, ActionHandler done) override {
        size_t i = so_far.turns.size();
        std::optional<PolicyError> err;
        traj::Action a;
        if (i < p->replies_.size()) a.text = p->replies_[i];
        else if (p->repeat_last_ && !p->replies_.empty()) a.text = p->replies_.back();
        else err = PolicyError{PolicyError::Kind::exhausted, "script ended"};
        boost::asio::post(p->io_, [done, err, a] { done(err, a); });
      }
    };
    return std::make_unique<Session>(this);
  }
  std::string model_name() const override { return "scripted"; }

 private:
  boost::asio::io_context& io_;
  std::vector<std::string> replies_;
  bool repeat_last_;
};

std::string bash(const std::string& cmd) { return "<tool: bash>\n" + cmd + "\n</tool>"; }

traj::Episode run(Policy& policy, boost::asio::io_context& io, EpisodeConfig cfg,
                  const std::string& iid = "swebox-fixtures__calc-1") {
  auto& f = runner_fixture();
  tasks::WorkspaceCache cache(f.repos, f.cache);
  const tasks::Instance* inst = fixture_instance(iid);
  REQUIRE(inst);
  return run_episode_blocking(cache, *f.environments, f.repos, policy, io, cfg, *inst);
}

EpisodeConfig quick() {
  EpisodeConfig c;
  c.evaluate = false;
  c.wall_limit_s = 120;
  c.bash_timeout_s = 20;
  return c;
}

}  // namespace

TEST_CASE("oracle resolves every task of the fixture suite") {
  SWEBOX_REQUIRE_FIXTURE();
  for (const tasks::Instance& inst : runner_fixture().instances) {
    CAPTURE(inst.instance_id);
    boost::asio::io_context io;
    auto oracle = make_policy("oracle", io);
    EpisodeConfig cfg;
    cfg.wall_limit_s = 300;
    traj::Episode e = run(*oracle, io, cfg, inst.instance_id);
    CHECK(e.terminal.status == traj::ExitStatus::submitted);
    CHECK(e.terminal.reason.find("submitted") != std::string::npos);
    CHECK(e.resolved());
    CHECK(e.terminal.rewards.total == 1.0);
    CHECK(e.terminal.patch.find("diff --git") == 0);
    CHECK(e.terminal.submission.find("diff --git") == 0);
    bool used_edit = false;
    for (const traj::Turn& t : e.turns)
      if (t.call && t.call->tool == "edit") used_edit = used_edit || t.result->ok;
    CHECK(used_edit);  // the hunks went through the edit tool, not only git apply
    CHECK(e.turns.back().observation.text.empty());
    CHECK(!e.turns.back().call);
  }
}

TEST_CASE("an agent that changes nothing is not resolved and scores -1") {
  SWEBOX_REQUIRE_FIXTURE();
  boost::asio::io_context io;
  ScriptedPolicy p(io, {bash("cd /testbed && git diff > /tmp/p.diff; echo 'diff --git a/x b/x' > /tmp/p.diff"),
                        "<tool: submit>\n/tmp/p.diff\n</tool>", "## Summary\nnothing"});
  EpisodeConfig cfg;
  traj::Episode e = run(p, io, cfg);
  CHECK(e.terminal.status == traj::ExitStatus::submitted);
  CHECK(e.terminal.patch.empty());
  CHECK(!e.resolved());
  CHECK(e.terminal.rewards.total == -1.0);
}

TEST_CASE("max turns ends the episode before the action at the limit runs") {
  SWEBOX_REQUIRE_FIXTURE();
  boost::asio::io_context io;
  ScriptedPolicy p(io, {bash("echo step")});
  EpisodeConfig cfg = quick();
  cfg.max_turns = 3;
  traj::Episode e = run(p, io, cfg);
  CHECK(e.terminal.status == traj::ExitStatus::max_turns);
  REQUIRE(e.turns.size() == 3);
  CHECK(e.turns[0].result->output.find("step") == 0);
  CHECK(e.turns[0].budget.turns == 2);
  CHECK(!e.turns[2].result);  // docs/formats.md §1.5: at most max_turns - 1 tools run
  CHECK(e.terminal.rewards.total == -1.0);
}

TEST_CASE("the context limit ends the episode as context_exceeded") {
  SWEBOX_REQUIRE_FIXTURE();
  boost::asio::io_context io;
  ScriptedPolicy p(io, {bash("seq 1 2000")});
  EpisodeConfig cfg = quick();
  cfg.context_size = 5000;  // the prompt fits, a few observations of seq do not
  traj::Episode e = run(p, io, cfg);
  CHECK(e.terminal.status == traj::ExitStatus::context_exceeded);
  CHECK(e.turns.size() >= 1);
  CHECK(e.turns.back().context_tokens > 5000);
}

TEST_CASE("the wall-clock limit ends the episode as sandbox_timeout") {
  SWEBOX_REQUIRE_FIXTURE();
  boost::asio::io_context io;
  ScriptedPolicy p(io, {bash("sleep 0.4")});
  EpisodeConfig cfg = quick();
  cfg.wall_limit_s = 1;
  traj::Episode e = run(p, io, cfg);
  CHECK(e.terminal.status == traj::ExitStatus::sandbox_timeout);
  CHECK(e.turns.size() >= 2);
}

TEST_CASE("lenient mode sends format errors back and stops after three in a row") {
  SWEBOX_REQUIRE_FIXTURE();
  boost::asio::io_context io;
  ScriptedPolicy p(io, {"I will look around.",                                      // no call
                        bash("ls") + "\n" + bash("pwd"),                            // two calls
                        bash("echo recovered"),                                     // resets the count
                        "<tool: teleport>\nsomewhere\n</tool>",                     // unknown tool
                        "<tool: bash>\n\n</tool>",                                  // blank body
                        "no call again", "never reached"});
  EpisodeConfig cfg = quick();
  traj::Episode e = run(p, io, cfg);
  CHECK(e.terminal.status == traj::ExitStatus::format_error);
  REQUIRE(e.turns.size() == 6);
  CHECK(e.turns[0].parse_error->kind == "FormatError");
  CHECK(e.turns[0].observation.content.find("FormatError: ") == 0);
  CHECK(e.turns[1].parse_error->kind == "FormatError");
  CHECK(e.turns[2].result->output.find("recovered") == 0);
  CHECK(e.turns[3].parse_error->kind == "NoSuchToolError");
  CHECK(e.turns[4].parse_error->kind == "FormatError");
  CHECK(e.terminal.reason.find("3 format errors") != std::string::npos);
}

TEST_CASE("strict mode fails the episode at the first format error") {
  SWEBOX_REQUIRE_FIXTURE();
  boost::asio::io_context io;
  ScriptedPolicy p(io, {bash("ls"), "no call here"});
  EpisodeConfig cfg = quick();
  cfg.strict = true;
  traj::Episode e = run(p, io, cfg);
  CHECK(e.terminal.status == traj::ExitStatus::format_error);
  CHECK(e.turns.size() == 2);
  CHECK(e.terminal.reason.find("strict") != std::string::npos);
}

TEST_CASE("after a submit a reply without a call ends it and strict mode also needs the ## summary") {
  SWEBOX_REQUIRE_FIXTURE();
  std::vector<std::string> script = {bash("cd /testbed && echo '# note' >> README.md && git diff > /tmp/p.diff"),
                                     "<tool: submit>\n/tmp/p.diff\n</tool>", "Done, no summary heading."};
  for (bool strict : {false, true}) {
    CAPTURE(strict);
    boost::asio::io_context io;
    ScriptedPolicy p(io, script);
    EpisodeConfig cfg = quick();
    cfg.strict = strict;
    traj::Episode e = run(p, io, cfg);
    CHECK(e.terminal.status == (strict ? traj::ExitStatus::format_error : traj::ExitStatus::submitted));
    CHECK(e.turns[1].result->submitted);
    CHECK(e.terminal.submission.find("README.md") != std::string::npos);
    CHECK(e.terminal.patch.find("+# note") != std::string::npos);
  }
}

TEST_CASE("in think mode only a ## after the end of thinking makes the final answer a strict summary") {
  SWEBOX_REQUIRE_FIXTURE();
  auto thought = [](const std::string& answer) { return "Let me think.\n</think>\n" + answer; };
  const std::string edit = thought(bash("cd /testbed && echo '# note' >> README.md && git diff > /tmp/p.diff"));
  const std::string submit = thought("<tool: submit>\n/tmp/p.diff\n</tool>");
  struct Case {
    std::string final_reply;
    traj::ExitStatus expected;
  };
  for (const Case& c : {Case{"## Draft of a summary in my head\n</think>\nDone.", traj::ExitStatus::format_error},
                        Case{thought("## Summary\nAppended a note."), traj::ExitStatus::submitted}}) {
    CAPTURE(c.final_reply);
    boost::asio::io_context io;
    ScriptedPolicy p(io, {edit, submit, c.final_reply});
    EpisodeConfig cfg = quick();
    cfg.strict = true;
    cfg.think = tools::ThinkMode::tag;
    traj::Episode e = run(p, io, cfg);
    REQUIRE(e.turns.size() == 3);
    CHECK(e.turns[1].result->submitted);
    CHECK(e.terminal.status == c.expected);
  }
}

TEST_CASE("an action is parsed only up to its first stop token") {
  SWEBOX_REQUIRE_FIXTURE();
  boost::asio::io_context io;
  // A server that does not stop at <|eot_id|> lets more text through; a second call there would
  // be a format error (two calls) if it were parsed.
  ScriptedPolicy p(io, {bash("echo before-stop") + "<|eot_id|>\n" + bash("echo after-stop"),
                        bash("echo two") + "<|eom_id|>trailing words"},
                   false);
  EpisodeConfig cfg = quick();
  cfg.strict = true;
  traj::Episode e = run(p, io, cfg);
  CHECK(e.terminal.status == traj::ExitStatus::limit);
  REQUIRE(e.turns.size() == 2);
  CHECK_FALSE(e.turns[0].parse_error);
  REQUIRE(e.turns[0].call);
  CHECK(e.turns[0].call->body == "echo before-stop");
  REQUIRE(e.turns[0].result);
  CHECK(e.turns[0].result->output.find("before-stop") == 0);
  CHECK(e.turns[0].result->output.find("after-stop") == std::string::npos);
  REQUIRE(e.turns[1].result);
  CHECK(e.turns[1].result->output.find("two") == 0);
}

TEST_CASE("a policy that runs out of actions ends the episode as limit") {
  SWEBOX_REQUIRE_FIXTURE();
  boost::asio::io_context io;
  ScriptedPolicy p(io, {bash("true")}, false);
  traj::Episode e = run(p, io, quick());
  CHECK(e.terminal.status == traj::ExitStatus::limit);
  CHECK(e.terminal.reason.find("script ended") != std::string::npos);
}

TEST_CASE("the final patch is the whole workspace diff, not only the submitted file") {
  SWEBOX_REQUIRE_FIXTURE();
  boost::asio::io_context io;
  ScriptedPolicy p(io, {bash("cd /testbed && echo 'x = 1' > new_module.py && echo '# a' >> README.md && "
                             "git diff README.md > /tmp/p.diff"),
                        "<tool: submit>\n/tmp/p.diff\n</tool>", "## Summary\nboth"});
  traj::Episode e = run(p, io, quick());
  CHECK(e.terminal.submission.find("new_module.py") == std::string::npos);
  CHECK(e.terminal.patch.find("new_module.py") != std::string::npos);
  CHECK(e.terminal.patch.find("README.md") != std::string::npos);
}

TEST_CASE("oracle uses create for a new file and edit for hunks") {
  SWEBOX_REQUIRE_FIXTURE();
  tasks::Instance inst = *fixture_instance("swebox-fixtures__calc-2");
  inst.patch += "diff --git a/calc/extra.py b/calc/extra.py\nnew file mode 100644\nindex 0000000..1111111\n"
                "--- /dev/null\n+++ b/calc/extra.py\n@@ -0,0 +1,2 @@\n+def twice(x):\n+    return 2 * x\n";
  auto& f = runner_fixture();
  tasks::WorkspaceCache cache(f.repos, f.cache);
  boost::asio::io_context io;
  auto oracle = make_policy("oracle", io);
  traj::Episode e = run_episode_blocking(cache, *f.environments, f.repos, *oracle, io, quick(), inst);
  CHECK(e.terminal.status == traj::ExitStatus::submitted);
  bool created = false;
  for (const traj::Turn& t : e.turns)
    if (t.call && t.call->tool == "create") {
      INFO(t.action.text);
      INFO(t.observation.content);
      created = t.result && t.result->ok;
      CHECK(created);
    }
  CHECK(created);
  CHECK(e.terminal.patch.find("+    return 2 * x") != std::string::npos);
  CHECK(e.terminal.patch.find("raise ValueError(\"mean of empty data\")") != std::string::npos);
}

TEST_CASE("replaying a recorded episode reproduces its observations") {
  SWEBOX_REQUIRE_FIXTURE();
  std::string path = runner_fixture().scratch + "/replay-source.jsonl";
  traj::Episode original;
  {
    boost::asio::io_context io;
    ScriptedPolicy p(io, {bash("cd /testbed && ls calc && cat calc/stats.py | head -3"),
                          "not a call", bash("cd /testbed && echo '# r' >> README.md && git diff > /tmp/p.diff"),
                          "<tool: submit>\n/tmp/p.diff\n</tool>", "## Summary\nok"});
    original = run(p, io, quick(), "swebox-fixtures__calc-2");
    traj::JsonlAppender w(path);
    w.append(traj::to_json(original));
  }
  boost::asio::io_context io;
  auto replay = make_policy("replay:" + path, io);
  traj::Episode again = run(*replay, io, quick(), "swebox-fixtures__calc-2");
  REQUIRE(again.turns.size() == original.turns.size());
  CHECK(again.terminal.status == original.terminal.status);
  CHECK(again.extra["replay"]["matched"] == true);
  CHECK(again.extra["replay"]["mismatches"].empty());
  CHECK(again.terminal.patch == original.terminal.patch);
}

TEST_CASE("replay reports observations that come out differently") {
  SWEBOX_REQUIRE_FIXTURE();
  std::string path = runner_fixture().scratch + "/replay-tampered.jsonl";
  {
    boost::asio::io_context io;
    ScriptedPolicy p(io, {bash("echo same"), bash("echo also same")}, false);
    traj::Episode e = run(p, io, quick());
    e.turns[1].observation.text = "something else";
    traj::JsonlAppender w(path);
    w.append(traj::to_json(e));
  }
  boost::asio::io_context io;
  auto replay = make_policy("replay:" + path, io);
  traj::Episode again = run(*replay, io, quick());
  CHECK(again.extra["replay"]["matched"] == false);
  REQUIRE(again.extra["replay"]["mismatches"].size() == 1);
  CHECK(again.extra["replay"]["mismatches"][0]["turn"] == 2);
}

TEST_CASE("an unknown repository is an env_error record, not a crash") {
  SWEBOX_REQUIRE_FIXTURE();
  tasks::Instance inst = *fixture_instance("swebox-fixtures__calc-1");
  inst.repo = "nobody/nothing";
  inst.instance_id = "nobody__nothing-1";
  auto& f = runner_fixture();
  tasks::WorkspaceCache cache(f.repos, f.cache);
  boost::asio::io_context io;
  auto oracle = make_policy("oracle", io);
  traj::Episode e = run_episode_blocking(cache, *f.environments, f.repos, *oracle, io, quick(), inst);
  CHECK(e.terminal.status == traj::ExitStatus::env_error);
  CHECK(e.terminal.reason.find("nobody") != std::string::npos);
  CHECK(e.turns.empty());
}

TEST_CASE("max_action_len: the swebox profile ends the episode, the cwm profile goes on (CWM cuts at generation)") {
  SWEBOX_REQUIRE_FIXTURE();
  std::string long_echo = bash("echo " + std::string(400, 'x'));  // ~100 estimated tokens
  for (Profile profile : {Profile::swebox, Profile::cwm}) {
    INFO(to_string(profile));
    boost::asio::io_context io;
    ScriptedPolicy p(io, {long_echo, bash("echo after")}, false);
    EpisodeConfig cfg = quick();
    PolicyOptions po;
    apply_profile(profile, cfg, po);
    cfg.max_action_len = 50;
    traj::Episode e = run(p, io, cfg);
    if (profile == Profile::swebox) {
      CHECK(e.terminal.status == traj::ExitStatus::limit);
      CHECK(e.terminal.reason.find("max_action_len") != std::string::npos);
      CHECK(e.turns.size() == 1);
    } else {
      CHECK(e.terminal.status == traj::ExitStatus::limit);  // the script ended, after both actions ran
      CHECK(e.terminal.reason.find("script ended") != std::string::npos);
      REQUIRE(e.turns.size() == 2);
      CHECK(e.turns[0].result.has_value());
      CHECK(e.turns[1].result->output.find("after") == 0);
    }
  }
}
