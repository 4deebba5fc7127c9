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
  std::string policy;                    // required (`swebox run --policy`): oracle | openai:... | replay:... | model:...
  std::string repos_dir;
  std::string out_dir;
  std::string cache_dir;                 // default: OUT/../.swebox-cache? no: $SWEBOX_CACHE or ~/.cache/swebox/trees
  std::string templates_dir;             // "" = the shipped templates
  std::string environments;              // "" = tasks/environments.json
  std::string tokenizer_file;            // --tokenizer: counts the budgets' tokens ("" = bytes/4)
  std::vector<std::string> instance_ids; // empty = all
  int jobs = 1;
  int samples = 1;
  bool resume = false;
  bool force = false;                    // --force: resume even when the run's identity differs (run.json)
  bool retry_errors = true;              // on --resume, rerun infra-error episodes (--no-retry-errors keeps them)
  int max_endpoint_failures = 3;         // episodes failing on the endpoint in a row that stop the run
  std::string run_id = "swebox";
  EpisodeConfig episode;
  PolicyOptions policy_options;
  bool progress = true;                  // the live display on stderr (infra errors are always printed)
  std::vector<std::string> argv;         // the command as typed, for the exact --resume command
};

// Exit statuses of `swebox run` (also in its --help and README.md).
enum RunExit : int {
  kRunOk = 0,              // every episode ran and is the model's result
  kRunCannotStart = 1,     // bad input, preflight, identity mismatch, locked or unwritable output
  kRunUsage = 2,           // the command line (cmd_run.cc)
  kRunInfraErrors = 3,     // finished, but episodes failed on the infrastructure or records were skipped
  kRunEndpointDown = 4,    // stopped early: the endpoint failed max_endpoint_failures episodes in a row
  kRunInterrupted = 130,   // Ctrl-C (or SIGTERM): stopped; the --resume command is printed
};

// Returns the process exit status (RunExit), with the reason on stderr.
int run_job(const RunOptions& options);

}  // namespace swebox::runner
