// What a run adds up to: resolution counts, pass@k with the unbiased estimator, exit statuses,
// rewards, tokens and speed, from the run's trajectories.
#pragma once

#include <vector>

#include <nlohmann/json.hpp>

#include "trajectories/record.h"

namespace swebox::runner {

// 1 - C(n-c, k) / C(n, k): the chance that at least one of k samples drawn from n (c of them
// correct) is correct (Chen et al. 2021), computed as a product to stay exact for large n.
double pass_at_k(int n, int c, int k);

// summary.json: counts, pass@k for k = 1, 2, 4, ... up to the smallest sample count per
// instance (and that count itself), mean reward, exit statuses, usage and timing. Over the model's
// episodes only: infra errors (traj::Outcome) are counted and listed with their reasons apart
// ("infra_errors"); an instance with nothing but infra errors is not in pass@k's denominator.
nlohmann::json summarize_run(const std::vector<traj::Episode>& episodes, double run_wall_s);

}  // namespace swebox::runner
