#include "runner/run_summary.h"

#include <algorithm>
#include <map>
#include <set>

namespace swebox::runner {

using nlohmann::json;

double pass_at_k(int n, int c, int k) {
  if (k <= 0 || n <= 0 || k > n) return 0.0;
  if (n - c < k) return 1.0;
  double all_wrong = 1.0;  // C(n-c,k)/C(n,k) = prod_{i=n-c+1..n} (1 - k/i)
  for (int i = n - c + 1; i <= n; ++i) all_wrong *= 1.0 - double(k) / double(i);
  return 1.0 - all_wrong;
}

json summarize_run(const std::vector<traj::Episode>& episodes, double run_wall_s) {
  struct Counts {
    int n = 0, c = 0;
  };
  std::map<std::string, Counts> per_instance;
  std::map<std::string, int> statuses, outcomes;
  double reward_sum = 0, episode_wall_ms = 0, policy_ms = 0, tool_ms = 0, runner_ms = 0;
  long turns = 0, resolved_episodes = 0, submitted = 0;
  traj::Usage usage;
  json infra_errors = json::array();
  std::set<std::string> ambiguous_ids, infra_only, error_ids;
  for (const traj::Episode& e : episodes) {
    traj::Outcome outcome = e.outcome();
    ++outcomes[traj::to_string(outcome)];
    ++statuses[traj::to_string(e.terminal.status)];
    usage += e.usage;
    if (outcome == traj::Outcome::infra_error) {
      // Not the model's result: out of pass@k and the means, listed with its reason.
      infra_errors.push_back({{"instance_id", e.instance_id}, {"sample", e.sample}, {"reason", e.terminal.reason}});
      error_ids.insert(e.instance_id);
      if (!per_instance.count(e.instance_id)) infra_only.insert(e.instance_id);
      continue;
    }
    infra_only.erase(e.instance_id);
    if (outcome == traj::Outcome::ambiguous) ambiguous_ids.insert(e.instance_id);
    Counts& k = per_instance[e.instance_id];
    ++k.n;
    if (e.resolved()) {
      ++k.c;
      ++resolved_episodes;
    }
    if (e.terminal.status == traj::ExitStatus::submitted) ++submitted;
    reward_sum += e.terminal.rewards.total;
    episode_wall_ms += e.wall_ms;
    turns += static_cast<long>(e.turns.size());
    for (const traj::Turn& t : e.turns) {
      policy_ms += t.policy_ms;
      tool_ms += t.tool_ms;
      runner_ms += t.runner_ms;
    }
  }
  int min_n = 0;
  for (const auto& [iid, k] : per_instance) min_n = min_n == 0 ? k.n : std::min(min_n, k.n);
  std::set<int> ks;
  for (int k = 1; k <= min_n; k *= 2) ks.insert(k);
  if (min_n > 0) ks.insert(min_n);
  json pass = json::object();
  for (int k : ks) {
    double sum = 0;
    for (const auto& [iid, c] : per_instance) sum += pass_at_k(c.n, c.c, k);
    pass["pass@" + std::to_string(k)] = per_instance.empty() ? 0.0 : sum / per_instance.size();
  }
  std::vector<std::string> resolved_ids;
  for (const auto& [iid, c] : per_instance)
    if (c.c > 0) resolved_ids.push_back(iid);
  size_t n = 0;  // the model's episodes (ambiguous included): what the means are over
  for (const auto& [iid, k] : per_instance) n += k.n;
  return {{"instances", per_instance.size()},
          {"episodes", n},
          {"outcomes", outcomes},
          {"infra_error_episodes", infra_errors.size()},
          {"infra_errors", infra_errors},
          {"error_ids", std::vector<std::string>(error_ids.begin(), error_ids.end())},
          {"infra_error_only_ids", std::vector<std::string>(infra_only.begin(), infra_only.end())},
          {"ambiguous_ids", std::vector<std::string>(ambiguous_ids.begin(), ambiguous_ids.end())},
          {"samples_per_instance_min", min_n},
          {"resolved_episodes", resolved_episodes},
          {"resolved_instances", resolved_ids.size()},
          {"resolved_ids", resolved_ids},
          {"submitted_episodes", submitted},
          {"pass_at_k", pass},
          {"exit_status", statuses},
          {"mean_reward", n ? reward_sum / n : 0.0},
          {"mean_turns", n ? double(turns) / n : 0.0},
          {"usage", {{"prompt_tokens", usage.prompt_tokens}, {"completion_tokens", usage.completion_tokens},
                     {"api_calls", usage.api_calls}, {"cost", usage.cost}}},
          {"timing", {{"run_wall_s", run_wall_s},
                      {"episodes_per_minute", run_wall_s > 0 ? n * 60.0 / run_wall_s : 0.0},
                      {"mean_episode_wall_s", n ? episode_wall_ms / 1000.0 / n : 0.0},
                      {"mean_policy_ms_per_turn", turns ? policy_ms / turns : 0.0},
                      {"mean_tool_ms_per_turn", turns ? tool_ms / turns : 0.0},
                      {"mean_runner_ms_per_turn", turns ? runner_ms / turns : 0.0}}}};
}

}  // namespace swebox::runner
