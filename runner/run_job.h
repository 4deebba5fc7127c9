// The main job: every (instance, sample) of a suite as an episode, -j N in flight, each record
// appended whole to OUT/trajectories.jsonl as it finishes; then predictions, the per-instance
// evaluation files and summary.json. `swebox run` (cmd_run.cc) is its command line.
#pragma once

#include <string>
#include <vector>

#include "runner/episode.h"
#include "runner/policy.h"

namespace swebox::runner {

struct RunOptions {
  std::string suite;
  std::string policy = "oracle";         // `swebox run` requires --policy; this default serves library callers
  std::string repos_dir;
  std::string out_dir;
  std::string cache_dir;                 // default: OUT/../.swebox-cache? no: $SWEBOX_CACHE or ~/.cache/swebox/trees
  std::string templates_dir;             // "" = the shipped templates
  std::string environments;              // "" = tasks/environments.json
  std::vector<std::string> instance_ids; // empty = all
  int jobs = 1;
  int samples = 1;
  bool resume = false;
  bool force = false;                    // --force: resume even when the run's identity differs; overwrite outputs
  bool retry_errors = true;              // on --resume, rerun infra-error episodes (--no-retry-errors keeps them)
  std::string run_id = "swebox";
  EpisodeConfig episode;
  PolicyOptions policy_options;
  bool progress = true;                  // the progress line / lines on stderr
};

// Returns the process exit status: 0 when every episode was recorded, 1 when the run could not
// start (bad arguments, unreadable suite, locked output) with the reason on stderr.
int run_job(const RunOptions& options);

}  // namespace swebox::runner
