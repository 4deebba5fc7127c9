// Issue 14's real token counts, through the real `swebox run` with the replay policy: the running
// total is what was actually added to the context (the prompt, each action, each observation as
// sent, error observations included), counted with --tokenizer when given and bytes/4 otherwise,
// and every record says which counter it was.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>

#include "model/sentencepiece.h"
#include "run_command.h"
#include "runner_fixture.h"
#include "tasks/preflight.h"
#include "tools/observation.h"
#include "tools/template.h"
#include "trajectories/writer.h"

namespace fs = std::filesystem;
using namespace swebox;
using nlohmann::json;
using swebox::test::runner_fixture;
using swebox::test::slurp;

namespace {

const std::string kTok512 = SWEBOX_SHARED_DIR "/models/stories260K/tok512.bin";
constexpr long long kContextSize = 60000;

// A recorded episode for calc-1 to replay: tool calls with varied output, and a reply with no tool
// call (a format error, answered in the default lenient mode) between them.
std::string write_actions(const std::string& path) {
  traj::Episode e;
  e.episode_id = "recorded/swebox-fixtures__calc-1/0";
  e.instance_id = "swebox-fixtures__calc-1";
  e.policy = "recorded";
  e.model = "recorded";
  for (std::string text : {
           std::string("<tool: bash>\nls -la\n</tool>"),
           std::string("I will look around first, without a tool call."),
           std::string("<tool: bash>\nprintf 'a\\nb    c\\n\\t1234567\\n'; echo h\xc3\xa9llo \xe6\x97\xa5\xe6\x9c\xac\n</tool>"),
           std::string("<tool: nosuchtool>\nx\n</tool>"),
           std::string("<tool: bash>\nfor f in *; do head -c 300 \"$f\"; done 2>&1 | head -40\n</tool>"),
       }) {
    traj::Turn t;
    t.index = static_cast<int>(e.turns.size()) + 1;
    t.action.text = text;
    e.turns.push_back(t);
  }
  std::ofstream(path) << traj::to_json(e).dump() << "\n";
  return path;
}

struct Ran {
  int rc;
  std::string log;
  json record;
};

Ran run_replay(const std::string& name, std::vector<std::string> extra) {
  auto& f = runner_fixture();
  std::string out = f.scratch + "/" + name;
  std::string actions = write_actions(f.scratch + "/" + name + "-actions.jsonl");
  std::vector<std::string> args = {"--suite", f.suite, "--repos", f.repos, "--out", out, "--cache", f.cache,
                                   "--policy", "replay:" + actions, "--instances", "swebox-fixtures__calc-1",
                                   "--quiet", "--no-eval", "--context-size", std::to_string(kContextSize)};
  args.insert(args.end(), extra.begin(), extra.end());
  std::string log = out + ".log";
  int rc = test::wait_exit(test::spawn_run(args, log, false));
  Ran r{rc, slurp(log), json()};
  auto records = traj::read_jsonl(out + "/trajectories.jsonl");
  if (!records.empty()) r.record = records.back();
  return r;
}

// Recounts the record with `count`: each turn's context_tokens is the prompt plus every action and
// observation before it plus its action; each shown K is context_size minus that minus the size of
// its own message with the budget's placeholders unfilled (CWM's formula, docs/formats.md §1.3).
void check_counts(const json& record, const tools::TokenCounter& count) {
  const tools::Templates& templates = tools::default_templates();
  long long total = static_cast<long long>(count(record["prompt"]["text"].get<std::string>()));
  int tool_observations = 0, error_observations = 0;
  for (const json& turn : record["turns"]) {
    CAPTURE(turn.dump());
    total += static_cast<long long>(count(turn["action"]["text"].get<std::string>()));
    CHECK(turn["context_tokens"].get<long long>() == total);
    const std::string observation = turn["observation"]["text"];
    if (observation.empty()) continue;
    if (!turn["call"].is_null()) {
      ++tool_observations;
      long long shown = turn["budget"]["tokens"];
      std::string content = turn["observation"]["content"];
      std::string rendered = templates.render("tools/observation_budget",
                                              {{"remaining_turns", std::to_string(turn["budget"]["turns"].get<long>())},
                                               {"remaining_tokens", std::to_string(shown)}});
      size_t at = content.rfind(rendered);
      REQUIRE(at != std::string::npos);
      content.replace(at, rendered.size(), templates.text("tools/observation_budget"));
      std::string role = "tool: " + turn["call"]["tool"].get<std::string>();
      long long own = static_cast<long long>(count(tools::message_text(role, content)));
      CHECK(shown == kContextSize - total - own);
    } else {
      ++error_observations;
      CHECK(!turn["parse_error"].is_null());
    }
    total += static_cast<long long>(count(observation));
  }
  CHECK(tool_observations >= 2);
  CHECK(error_observations == 2);  // no tool call, no such tool: both counted in the totals above
}

}  // namespace

TEST_CASE("run --tokenizer: the shown budget is context_size minus the real tokens of the context") {
  SWEBOX_REQUIRE_FIXTURE();
  if (!fs::exists(kTok512)) {
    MESSAGE("SKIPPED: " << kTok512 << " is absent");
    return;
  }
  Ran r = run_replay("tok512", {"--tokenizer", kTok512});
  INFO(r.log);
  REQUIRE(r.record.is_object());
  REQUIRE(r.record["turns"].size() == 5);
  json counter = r.record["config"]["token_counter"];
  CHECK(counter["kind"] == "sentencepiece");
  CHECK(counter["source"] == "llama2.c tokenizer.bin");
  CHECK(counter["vocab_size"] == 512);
  CHECK(counter["file_id"] == tasks::content_id(slurp(kTok512)));
  auto tokenizer = model::read_llama2c_tokenizer(kTok512);
  tools::TokenCounter count = [&](std::string_view text) {
    return tokenizer->encode(text, {.parse_special = true}).size();
  };
  check_counts(r.record, count);
  // The real count is not bytes/4: the two differ on this context.
  std::string prompt = r.record["prompt"]["text"];
  CHECK(count(prompt) != tools::estimate_tokens(prompt));
  // run.json's identity names the counter, so a resume with another tokenizer is a different run.
  json identity = json::parse(slurp(runner_fixture().scratch + "/tok512/run.json"))["identity"];
  CHECK(identity["config"]["token_counter"] == counter);

  // The same vocabulary in the model's GGUF, recognised by content (tool output such as `ls -la`
  // can differ between the two runs, so each record is recounted on its own).
  const std::string gguf = SWEBOX_SHARED_DIR "/models/stories260K/stories260K.gguf";
  if (!fs::exists(gguf)) {
    MESSAGE("SKIPPED (GGUF part): " << gguf << " is absent");
    return;
  }
  Ran g = run_replay("gguf", {"--tokenizer", gguf});
  INFO(g.log);
  REQUIRE(g.record.is_object());
  CHECK(g.record["config"]["token_counter"]["source"] == "gguf llama");
  CHECK(g.record["config"]["token_counter"]["file_id"] == tasks::content_id(slurp(gguf)));
  check_counts(g.record, count);  // recounted with tok512.bin: the same vocabulary, the same counts
}

TEST_CASE("run without --tokenizer: bytes/4 over what was really added, and the record says so") {
  SWEBOX_REQUIRE_FIXTURE();
  Ran r = run_replay("bytes4", {});
  INFO(r.log);
  REQUIRE(r.record.is_object());
  REQUIRE(r.record["turns"].size() == 5);
  CHECK(r.record["config"]["token_counter"] == "bytes/4");
  check_counts(r.record, tools::estimate_tokens);
}

TEST_CASE("run --tokenizer with a file that is no tokenizer is an error naming it") {
  SWEBOX_REQUIRE_FIXTURE();
  std::string bogus = runner_fixture().scratch + "/bogus-tokenizer.txt";
  std::ofstream(bogus) << "this is not a tokenizer\n";
  Ran r = run_replay("bogus", {"--tokenizer", bogus});
  CHECK(r.rc == 1);
  CHECK(r.log.find("swebox run: " + bogus + ":") != std::string::npos);
  CHECK(r.log.find("not a tokenizer file") != std::string::npos);
  Ran missing = run_replay("missing", {"--tokenizer", bogus + ".absent"});
  CHECK(missing.rc == 1);
  CHECK(missing.log.find(bogus + ".absent: cannot open") != std::string::npos);
}

TEST_CASE("run --policy model:GGUF without --tokenizer: the model's own vocabulary counts the budgets") {
  SWEBOX_REQUIRE_FIXTURE();
  const std::string gguf = SWEBOX_SHARED_DIR "/models/stories260K/stories260K.gguf";
  if (!fs::exists(gguf)) {
    MESSAGE("SKIPPED: " << gguf << " is absent");
    return;
  }
  auto& f = runner_fixture();
  std::string out = f.scratch + "/model-own-tokenizer";
  std::vector<std::string> args = {"--suite", f.suite, "--repos", f.repos, "--out", out, "--cache", f.cache,
                                   "--policy", "model:" + gguf, "--instances", "swebox-fixtures__calc-1",
                                   "--quiet", "--no-eval", "--max-turns", "2", "--max-tokens", "8"};
  std::string log = out + ".log";
  int rc = test::wait_exit(test::spawn_run(args, log, false));
  INFO(slurp(log));
  CHECK(rc != 2);  // a usage error would say the spec or the tokenizer was refused
  auto records = traj::read_jsonl(out + "/trajectories.jsonl");
  REQUIRE(!records.empty());
  // stories260K's 512 positions cannot hold the prompt: the episode says so, counted in its own tokens.
  CHECK(records.back()["terminal"]["exit_status"] == "context_exceeded");
  const json& counter = records.back()["config"]["token_counter"];
  REQUIRE(counter.is_object());
  CHECK(counter["source"] == "gguf llama");
  CHECK(counter["file_id"] == tasks::content_id(slurp(gguf)));
}
