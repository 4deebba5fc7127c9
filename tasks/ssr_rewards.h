// Self-play rewards exactly as SSR defines them (docs/formats.md §6.4): the solver's ±1, and the
// injector's, which is highest when its bug is solved by a few of a group of attempts. Pure functions.
#pragma once

#include <vector>

namespace swebox::tasks {

struct InjectorRewardOptions {
  double alpha = 0.8;  // the penalty for a bug every attempt solves, or none
  int group = 8;       // solver attempts per bug (G)
};

// +1 solved, −1 otherwise.
inline double solver_reward(bool solved) { return solved ? 1.0 : -1.0; }

// The solve rate s: solved attempts over attempts; throws std::invalid_argument on no attempts.
double solve_rate(const std::vector<bool>& solved);

// −1 when the artifact failed validation; −α when s is 0 or 1; otherwise 1 − (1 + α)·s.
// Throws std::invalid_argument for s outside [0, 1] or α outside [0, 1].
double injector_reward(bool valid, double s, double alpha = 0.8);

}  // namespace swebox::tasks
