// The trajectory record: one agent episode, everything needed to replay, score, train on and
// export it (trajectories/SCHEMA.md documents every field). Plain structs; JSON in record.cc.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace swebox::traj {

inline constexpr const char* kSchema = "swebox.trajectory/1";

// Token accounting as an OpenAI-compatible server reports it (usage{}), summed over calls.
struct Usage {
  int64_t prompt_tokens = 0;
  int64_t completion_tokens = 0;
  int64_t api_calls = 0;
  double cost = 0;  // in the provider's currency; 0 when unknown
  Usage& operator+=(const Usage& o);
};

struct Message {
  std::string role;  // system | user | assistant | tool
  std::string content;
};

// What the policy produced for one turn.
struct Action {
  std::string text;
  std::vector<int32_t> tokens;   // empty when the policy does not expose them
  std::vector<double> logprobs;  // one per token when known (or per returned piece of text)
  std::string finish_reason;     // "stop", "length", ... when known
  Usage usage;                   // this call alone
  // What a reasoning server split out as reasoning_content (already part of `text` in think mode,
  // where the action is the whole generation); "" when none.
  std::string reasoning;
  // `text` ends with an <|eot_id|> the server stopped on but did not return (profile cwm: the end
  // token belongs to the action, docs/profiles.md); no log-prob covers it.
  bool end_token_added = false;
  // `text` without a final <|eot_id|>: the action as CWM decodes it (action_str) and as a chat
  // message holds it (the end token implied).
  std::string text_without_end_token() const;
};

struct ToolCall {
  std::string tool;  // bash | edit | create | submit | ...
  std::string body;  // passed through unstripped (docs/formats.md §1.1)
};

struct ParseError {
  std::string kind;     // FormatError | NoSuchToolError | ThinkError | ...
  std::string message;
};

struct ToolResult {
  bool ok = false;
  std::string output;              // what the tool reported (before rendering into the observation)
  std::optional<int> exit_code;    // bash: the command's exit status when known
  std::string error_kind;          // "" when ok; timeout | too_long | exit | broken_pipe | other | ...
  bool submitted = false;          // a successful submit: `output` is the submitted patch
};

struct Observation {
  std::string text;               // the token-stream text that follows the action (CWM form, headers
                                  // included; empty when terminal)
  std::string content;            // the same message in chat form: its body (what chat policies see)
  std::vector<int32_t> tokens;    // when a tokenizer rendered it
  bool truncated = false;         // cut to max_user_turn_len
};

struct Budget {
  int64_t turns = 0;   // remaining turns, counting this one (docs/formats.md §1.3 T)
  int64_t tokens = 0;  // remaining context tokens (docs/formats.md §1.3 K)
};

struct Turn {
  int index = 0;                       // 1-based step id
  Action action;
  std::optional<ToolCall> call;        // the parsed call, or
  std::optional<ParseError> parse_error;
  std::optional<ToolResult> result;    // absent when nothing was executed
  Observation observation;
  Budget budget;
  double policy_ms = 0;                // waiting for the policy
  double tool_ms = 0;                  // executing the tool
  double runner_ms = 0;                // the loop's own work: limits, parsing, rendering the observation
  int64_t context_tokens = 0;          // tokens in the context after this turn's action
  double reward = 0;                   // per-step reward (CWM puts everything on the terminal step)
};

enum class ExitStatus { submitted, context_exceeded, max_turns, format_error, sandbox_timeout, env_error, limit };
const char* to_string(ExitStatus s);
// Throws std::invalid_argument naming the bad value.
ExitStatus exit_status_from_string(const std::string& s);

// Whose result an episode is. Only `model` episodes say anything about the policy: pass@k, resolved
// counts and training rewards leave the other two out.
//   model        the policy's own result: resolved, unresolved, a format error, a limit
//   infra_error  the infrastructure failed: repository or commit missing, sandbox, endpoint,
//                environment, the test patch not applying (exit status env_error, or an
//                evaluation that could not be done)
//   ambiguous    evaluated, but the test log could not be graded (a timeout, missing markers)
enum class Outcome { model, infra_error, ambiguous };
const char* to_string(Outcome o);

struct Rewards {
  double total = 0;                   // what the learner gets (on the terminal token)
  std::string mode;                   // test | similarity | both | none
  std::optional<double> test;         // ±1 from resolution
  std::optional<double> similarity;   // SWE-RL similarity score in [0,1] (or -1 on format error)
  nlohmann::json details = nlohmann::json::object();  // f2p/p2p rates, threshold, per-file scores ...
};

struct Terminal {
  ExitStatus status = ExitStatus::env_error;
  std::string reason;       // human words: which limit, which error
  std::string patch;        // the final diff of the workspace
  std::string submission;   // the last successfully submitted file's content ("" if none)
  nlohmann::json eval;      // the instance's entry of SWE-bench's report.json (docs/formats.md §4.5):
                            // {patch_is_None, patch_exists, patch_successfully_applied, resolved, ...};
                            // null when not evaluated
  double eval_ms = 0;
  Rewards rewards;
  // What the judge saw and did (tasks/judge.h): {"grading": "sealed" | "swebench",
  // "judged": "submission" | "workspace", "submission_differs", "git_touched", "diff_refused",
  // "skipped_special", "evaluation": {...}, ...}; empty for records written before it existed.
  nlohmann::json audit = nlohmann::json::object();

  // The patch that was evaluated: the submission where the judge took it, else the workspace diff.
  const std::string& judged_patch() const {
    return audit.is_object() && audit.value("judged", "") == "submission" ? submission : patch;
  }
};

struct Episode {
  std::string schema = kSchema;
  std::string episode_id;     // unique per (run, instance, sample)
  std::string instance_id;
  std::string task_kind = "solve";  // solve | inject | higher_order
  int sample = 0;                   // 0-based index among the samples of this instance
  std::string policy;               // the policy spec, e.g. openai:http://host/v1#model
  std::string model;                // model name as exported (model_name_or_path)
  std::string profile = "swebox";   // the environment reproduced: swebox | cwm (docs/profiles.md)
  // The prompt and notice templates: {"set": "shipped" or the --templates directory, "content_id"}.
  nlohmann::json templates = nlohmann::json::object();
  nlohmann::json config = nlohmann::json::object();    // limits, parser mode, reward mode, templates
  nlohmann::json sampling = nlohmann::json::object();  // temperature, top_p, max_tokens, seed ...
  std::string system_prompt;
  std::string task_prompt;              // the first user message (after max_prompt_len truncation)
  std::string prompt_text;              // the whole first prompt as a token stream (CWM form)
  std::vector<int32_t> prompt_tokens;   // when a tokenizer rendered the prompt
  std::vector<Turn> turns;
  Terminal terminal;
  Usage usage;                          // summed over turns
  nlohmann::json extra = nlohmann::json::object();     // e.g. {"replay": {"mismatches": [...]}}
  nlohmann::json sandbox = nlohmann::json::object();   // statistics: commands, wall, peak memory ...
  std::string started_at;               // ISO-8601 UTC
  double wall_ms = 0;

  // The conversation as chat messages: system, task, then per turn the action (assistant) and the
  // observation (user), as the policy saw it.
  std::vector<Message> messages() const;
  // The token-stream text of the context so far: prompt.text, then each turn's action text and
  // observation text. What a completions policy is sent, byte for byte.
  std::string context_text() const;
  // terminal.eval says the instance is resolved (FULL, docs/formats.md §4.3).
  bool resolved() const;
  // Derived from the exit status and terminal.eval (written as terminal.outcome, never read back).
  Outcome outcome() const;
};

nlohmann::json to_json(const Episode& e);
// Throws std::runtime_error naming the missing or malformed field.
Episode episode_from_json(const nlohmann::json& j);

// The (instance, sample) key that --resume uses.
std::string episode_key(const std::string& instance_id, int sample);

}  // namespace swebox::traj
