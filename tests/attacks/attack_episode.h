// Attacks as real episodes: a replay trajectory whose actions do the attack, run through the real
// `swebox run` binary on the fixture suite, and every output read back for the test to judge.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace swebox::test {

// One episode of the attack: the instance it runs on and the agent's replies, in order.
struct AttackEpisode {
  std::string instance_id;
  std::vector<std::string> actions;  // CWM action texts, e.g. bash_action("cat /etc/shadow")
};

std::string bash_action(const std::string& command);  // "<tool: bash>\nCOMMAND\n</tool>"
std::string submit_action(const std::string& path);   // "<tool: submit>\nPATH\n</tool>"

struct AttackRun {
  int exit_code = -1;                    // swebox run's exit status (-1: did not exit normally)
  std::string out_dir;                   // its --out
  std::string console;                   // its stdout and stderr
  std::vector<nlohmann::json> episodes;  // OUT/trajectories.jsonl, one episode a line
  double wall_s = 0;                     // how long the whole run took

  // The episode recorded for this instance (the first sample), or nullptr.
  const nlohmann::json* episode(const std::string& instance_id) const;
  // Every regular file under out_dir and the console, concatenated: grep it for anything leaked.
  std::string all_outputs() const;
};

// Writes a replay trajectories file holding these episodes and runs
//   swebox run --suite <fixture suite> --policy replay:FILE --repos <fixture repos> --cache <fixture cache>
//              --out <fresh dir> --instances <their ids> --quiet <extra_args...>
// with a wall-clock guard (timeout_s; the run is killed past it and exit_code is then -1).
// Throws std::runtime_error when the fixture suite cannot be built.
AttackRun run_attack_episodes(const std::vector<AttackEpisode>& episodes,
                              const std::vector<std::string>& extra_args = {}, double timeout_s = 300);

// Skips the test case (with the reason) where no sandbox can be made or the fixture cannot be built.
bool attacks_unavailable(std::string* why);

}  // namespace swebox::test

#define SWEBOX_REQUIRE_ATTACKS()                                   \
  do {                                                             \
    std::string swebox_attacks_why;                                \
    if (swebox::test::attacks_unavailable(&swebox_attacks_why)) {  \
      MESSAGE("skipped: " << swebox_attacks_why);                  \
      return;                                                      \
    }                                                              \
  } while (0)
