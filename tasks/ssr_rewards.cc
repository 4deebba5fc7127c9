#include "tasks/ssr_rewards.h"

#include <stdexcept>
#include <string>

namespace swebox::tasks {

double solve_rate(const std::vector<bool>& solved) {
  if (solved.empty()) throw std::invalid_argument("solve rate of no attempts");
  size_t n = 0;
  for (bool b : solved) n += b ? 1 : 0;
  return static_cast<double>(n) / static_cast<double>(solved.size());
}

double injector_reward(bool valid, double s, double alpha) {
  if (!(alpha >= 0.0 && alpha <= 1.0)) throw std::invalid_argument("injector reward: alpha " + std::to_string(alpha) + " is not in [0, 1]");
  if (!valid) return -1.0;
  if (!(s >= 0.0 && s <= 1.0)) throw std::invalid_argument("injector reward: solve rate " + std::to_string(s) + " is not in [0, 1]");
  if (s == 0.0 || s == 1.0) return -alpha;
  return 1.0 - (1.0 + alpha) * s;
}

}  // namespace swebox::tasks
