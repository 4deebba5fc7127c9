// SSR's rewards (docs/formats.md §6.4) at their edges.
#include <doctest/doctest.h>

#include <stdexcept>

#include "tasks/ssr_rewards.h"

using namespace swebox::tasks;

TEST_CASE("ssr solver reward is +1 solved and -1 otherwise") {
  CHECK(solver_reward(true) == 1.0);
  CHECK(solver_reward(false) == -1.0);
}

TEST_CASE("ssr injector reward: -1 invalid whatever the solve rate, -alpha at s = 0 and s = 1") {
  CHECK(injector_reward(false, 0.0) == -1.0);
  CHECK(injector_reward(false, 0.25) == -1.0);
  CHECK(injector_reward(false, 1.0) == -1.0);
  CHECK(injector_reward(true, 0.0) == doctest::Approx(-0.8));
  CHECK(injector_reward(true, 1.0) == doctest::Approx(-0.8));
  CHECK(injector_reward(true, 0.0, 0.5) == doctest::Approx(-0.5));
}

TEST_CASE("ssr injector reward between the edges is 1 - (1 + alpha) s over a group of 8") {
  // One of eight solved: the best a group of 8 can give, 1 - 1.8/8.
  CHECK(injector_reward(true, solve_rate({true, false, false, false, false, false, false, false})) ==
        doctest::Approx(0.775));
  CHECK(injector_reward(true, 2.0 / 8) == doctest::Approx(0.55));
  CHECK(injector_reward(true, 7.0 / 8) == doctest::Approx(1 - 1.8 * 7 / 8));  // -0.575
  // Just past 1/(1+alpha) ~ 0.556 the reward turns negative, but never below -alpha.
  CHECK(injector_reward(true, 5.0 / 9) == doctest::Approx(0.0));
  CHECK(injector_reward(true, 7.0 / 8) > -0.8);
  CHECK(injector_reward(true, 0.5, 0.0) == doctest::Approx(0.5));
}

TEST_CASE("ssr solve rate counts solved attempts and refuses an empty group or bad values") {
  CHECK(solve_rate({true, true, false, false}) == doctest::Approx(0.5));
  CHECK(solve_rate({false}) == 0.0);
  CHECK_THROWS_AS(solve_rate({}), std::invalid_argument);
  CHECK_THROWS_AS(injector_reward(true, 1.5), std::invalid_argument);
  CHECK_THROWS_AS(injector_reward(true, -0.1), std::invalid_argument);
  CHECK_THROWS_AS(injector_reward(true, 0.5, 2.0), std::invalid_argument);
}
