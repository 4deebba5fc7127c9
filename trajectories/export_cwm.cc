#include "trajectories/export.h"
#include "trajectories/writer.h"

namespace swebox::traj {

using nlohmann::json;

namespace {

// CWM's Transition (cwm/rl/envs/api.py): the action and the observation it produced; one reward
// per action token with the terminal reward on the last; terminal transitions have no observation.
json transition(const std::vector<int32_t>& action, const std::string& action_str, double reward,
                const std::vector<int32_t>& observation, const std::string& observation_str, bool terminal,
                json outcomes, json info) {
  json rewards = json::array();
  for (size_t i = 0; i < action.size(); ++i) rewards.push_back(i + 1 == action.size() ? reward : 0.0);
  return {{"action", action},           {"action_str", action_str},
          // eos_reward as in CWM's minimal dump: kept even when the tokens are unknown (chat policies).
          {"rewards", rewards},         {"eos_reward", action_str.empty() && action.empty() ? json(nullptr) : json(reward)},
          {"observation", observation}, {"observation_str", observation_str},
          {"terminal", terminal},       {"context_switch", false},
          {"outcomes", std::move(outcomes)}, {"info", std::move(info)}};
}

}  // namespace

json to_cwm_dump(const Episode& e) {
  const Terminal& term = e.terminal;
  json transitions = json::array();
  // The start transition: no action, the prompt as the observation.
  std::string prompt_str = !e.prompt_text.empty()     ? e.prompt_text
                           : e.system_prompt.empty() ? e.task_prompt
                                                     : e.system_prompt + "\n\n" + e.task_prompt;
  transitions.push_back(transition({}, "", 0, e.prompt_tokens, prompt_str, false, json::object(),
                                   {{"instance_id", e.instance_id}}));
  json outcomes = {{"pass", e.resolved()}, {"exit_status", to_string(term.status)}};
  if (term.rewards.similarity) outcomes["similarities"] = *term.rewards.similarity;
  if (term.rewards.details.contains("threshold")) outcomes["threshold"] = term.rewards.details["threshold"];
  // Log-probs of the behaviour policy, aligned with the single context (0 for environment tokens).
  json log_probs = json::array();
  bool have_logprobs = true;
  for (size_t i = 0; i < e.prompt_tokens.size(); ++i) log_probs.push_back(0.0);
  for (size_t i = 0; i < e.turns.size(); ++i) {
    const Turn& t = e.turns[i];
    bool last = i + 1 == e.turns.size();
    double reward = last ? term.rewards.total : t.reward;
    json info = {{"instance_id", e.instance_id}};
    if (t.parse_error) info["message"] = t.parse_error->kind + ": " + t.parse_error->message;
    if (last) {
      info["message"] = term.reason;
      info["eval_duration"] = term.eval_ms / 1000.0;
      info["pred_patch"] = term.patch;
    }
    // A terminal transition carries no observation (CWM asserts it).
    transitions.push_back(transition(t.action.tokens, t.action.text_without_end_token(), reward,
                                     last ? std::vector<int32_t>{} : t.observation.tokens,
                                     last ? std::string() : t.observation.text, last,
                                     last ? outcomes : json::object(), std::move(info)));
    if (t.action.logprobs.size() != t.action.tokens.size()) have_logprobs = false;
    for (double lp : t.action.logprobs) log_probs.push_back(lp);
    if (!last)
      for (size_t k = 0; k < t.observation.tokens.size(); ++k) log_probs.push_back(0.0);
  }
  json traj = {{"transitions", std::move(transitions)}};
  if (have_logprobs && !e.turns.empty() && !e.turns.front().action.tokens.empty())
    traj["log_prob_behavior"] = json::array({log_probs});
  json metrics = {{"reward", term.rewards.total}, {"pass", e.resolved()}, {"num_turns", e.turns.size()},
                  {"exit_status", to_string(term.status)}, {"wall_s", e.wall_ms / 1000.0}};
  json rollout = {{"traj", std::move(traj)},
                  {"data_src", {{"name", "swebox/" + e.task_kind}, {"instance_id", e.instance_id}}},
                  {"start_args", {{"instance_id", e.instance_id}, {"sample", e.sample}, {"episode_id", e.episode_id}}},
                  {"begin_step", -1},
                  {"end_step", -1},
                  {"metrics", metrics},
                  {"rl_task_args", {{"name", "swebox"}, {"config", e.config}}},
                  {"pivotal", nullptr}};
  return {{"rollouts", json::array({rollout})}, {"metrics", json::array({metrics})}};
}

size_t write_cwm_dump(const std::vector<Episode>& episodes, const std::string& path) {
  std::string out;
  for (const Episode& e : episodes) out += dump_line(to_cwm_dump(e)) + "\n";
  write_file_atomically(path, out);
  return episodes.size();
}

}  // namespace swebox::traj
