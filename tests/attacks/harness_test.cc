// The attack harness itself: a replayed agent's fix resolves, a do-nothing agent does not, and
// every episode of a run is recorded. The attack tests rely on these.
#include <doctest/doctest.h>

#include "attack_episode.h"

using namespace swebox::test;

TEST_CASE("a replayed agent that fixes calc-1 resolves it, and one that does nothing does not") {
  SWEBOX_REQUIRE_ATTACKS();
  std::string fix = bash_action(
      "cd /testbed && python3 - <<'EOF'\n"
      "p = 'calc/ops.py'\n"
      "s = open(p).read()\n"
      "s = s.replace('for _ in range(b):', 'for _ in range(abs(b)):')"
      ".replace('    return result\\n', '    return -result if b < 0 else result\\n', 1)\n"
      "open(p, 'w').write(s)\n"
      "EOF\n"
      "git diff > /tmp/fix.diff; cat /tmp/fix.diff");
  AttackRun run = run_attack_episodes({
      {"swebox-fixtures__calc-1", {fix, submit_action("/tmp/fix.diff"), "Done.\n\n## Fixed mul."}},
      {"swebox-fixtures__calc-2", {bash_action("echo nothing to see"), submit_action("/tmp/none.diff"),
                                   "Done.\n\n## Nothing."}},
  });
  INFO(run.console);
  CHECK(run.exit_code == 0);
  REQUIRE(run.episodes.size() == 2);
  const nlohmann::json* fixed = run.episode("swebox-fixtures__calc-1");
  const nlohmann::json* idle = run.episode("swebox-fixtures__calc-2");
  REQUIRE(fixed);
  REQUIRE(idle);
  INFO(fixed->dump(2).substr(0, 4000));
  CHECK((*fixed)["terminal"]["eval"]["resolved"] == true);
  CHECK((*idle)["terminal"]["eval"]["resolved"] == false);
  CHECK(run.all_outputs().find("nothing to see") != std::string::npos);
}
