// swebox run: the main job's command line (the job itself is run_job.cc).
#include <cstdio>
#include <string>

#include "runner/command_line.h"
#include "runner/profile.h"
#include "runner/run_job.h"
#include "tasks/evaluation.h"
#include "tasks/suite.h"

namespace {

swebox::tools::ThinkMode parse_think_mode(const std::string& m) {
  if (m == "off") return swebox::tools::ThinkMode::off;
  if (m == "tag") return swebox::tools::ThinkMode::tag;
  if (m == "token") return swebox::tools::ThinkMode::token;
  throw std::invalid_argument("takes off, tag or token, not '" + m + "'");
}

swebox::sandbox::Backend parse_backend(const std::string& b) {
  if (b == "native") return swebox::sandbox::Backend::native;
  if (b == "docker") return swebox::sandbox::Backend::docker;
  throw std::invalid_argument("takes native or docker, not '" + b + "'");
}

}  // namespace

int cmd_run(int argc, char** argv) {
  using namespace swebox::runner;
  RunOptions o;
  o.policy.clear();  // no default: a forgotten --policy must not run the oracle and report 100%
  std::string instances, think = "off", reward = "test", grading = "sealed", backend = "native", profile = "swebox";
  bool strict = false, lenient = false, no_retry_errors = false, no_plugins = false, no_eval = false, quiet = false;

  CLI::App app{"", "swebox run"};
  describe_command(app,
                   "Runs an agent on every instance of a suite, each episode in its own sandbox; evaluates each final\n"
                   "diff with the instance's tests; writes OUT/trajectories.jsonl, OUT/predictions.jsonl,\n"
                   "OUT/logs/run_evaluation/..., OUT/summary.json and OUT/summary.md (OUT/run.json: the run's identity).\n"
                   "Exit status: 0 every episode is the model's result; 1 the run could not start (input, preflight,\n"
                   "identity mismatch on --resume) or write its outputs; 2 usage; 3 some episodes are infra errors\n"
                   "or suite records were skipped; 4 stopped: the endpoint kept failing; 130 interrupted (Ctrl-C).",
                   {"swebox run --suite suite.jsonl --policy oracle --repos /work/repos --out runs/oracle -j 4",
                    "swebox run --suite verified.jsonl --policy 'openai:http://127.0.0.1:8000/v1#qwen' --repos /work/repos "
                    "--out runs/qwen --samples 4 --temperature 0.7",
                    "swebox run --suite verified.jsonl --policy 'openai:http://127.0.0.1:8000/v1#qwen' --repos /work/repos "
                    "--out runs/qwen --samples 4 --temperature 0.7 --resume"});
  app.add_option("--suite", o.suite, "SWE-bench instances (JSONL or JSON)")->type_name("FILE")->required();
  app.add_option("--policy", o.policy,
                 "oracle (the gold patch) | openai:http://HOST:PORT/v1[?api=completions][#model] | "
                 "replay:TRAJECTORIES.jsonl | model:PATH")
      ->required()->type_name("SPEC");
  app.add_option("--repos", o.repos_dir, "DIR/<owner>__<name> git repositories")->type_name("DIR")->required();
  app.add_option("--out", o.out_dir, "output directory")->type_name("DIR")->required();
  app.add_option("-j,--jobs", o.jobs, "episodes in flight")->check(whole_number_at_least(1))->capture_default_str();
  app.add_option("--samples", o.samples, "episodes per instance (pass@k)")->check(whole_number_at_least(1))->capture_default_str();
  app.add_flag("--resume", o.resume, "continue a run in OUT: skip the episodes already recorded");
  app.add_flag("--force", o.force, "with --resume: resume even when the run's identity differs; overwrite outputs");
  app.add_flag("--no-retry-errors", no_retry_errors, "with --resume: keep infra-error episodes instead of rerunning them");
  app.add_option("--instances", instances, "only these ids (comma separated, or @FILE)")->type_name("IDS");
  app.add_option("--max-turns", o.episode.max_turns, "turns per episode")->check(whole_number_at_least(1))->capture_default_str();
  app.add_option("--context-size", o.episode.context_size, "tokens")->check(whole_number_at_least(1))->capture_default_str();
  app.add_option("--profile", profile,
                 "swebox: this project's defaults; cwm: CWM's environment exactly (context sent as recorded, "
                 "strict by default, no cap on format errors) (docs/profiles.md)")
      ->check(accepted_by([](const std::string& p) { parse_profile(p); }))->type_name("NAME")
      ->capture_default_str();
  auto* strict_flag = app.add_flag("--strict", strict, "a format error fails the episode (the default under --profile cwm)");
  app.add_flag("--lenient", lenient,
               "format errors are sent back; under --profile swebox (the default there) 3 in a row end the "
               "episode, under cwm none do")
      ->excludes(strict_flag);
  app.add_option("--reward", reward, "test | similarity | both | none")
      ->check(swebox::runner::accepted_by([](const std::string& s) { parse_reward_kind(s); }))->type_name("KIND")
      ->capture_default_str();
  app.add_option("--similarity-threshold", o.episode.similarity_threshold, "with --reward both")
      ->check(fraction())
      ->capture_default_str();
  app.add_option("--think", think, "off | tag | token")
      ->check(accepted_by([](const std::string& s) { parse_think_mode(s); }))->type_name("MODE")
      ->capture_default_str();
  app.add_flag("--no-plugins", no_plugins, "offer only bash and submit");
  app.add_flag("--no-eval", no_eval, "skip running the tests (no resolution, no test reward)");
  app.add_option("--grading", grading,
                 "sealed: the submitted patch, test infrastructure stripped; swebench: the whole workspace diff "
                 "(docs/grading-modes.md)")
      ->check(accepted_by([](const std::string& s) { swebox::tasks::parse_grading_mode(s); }))->type_name("MODE")
      ->capture_default_str();
  app.add_option("--wall-limit", o.episode.wall_limit_s, "seconds per episode")->check(number_above_zero())->capture_default_str();
  app.add_option("--bash-timeout", o.episode.bash_timeout_s, "seconds per call")->check(number_above_zero())->capture_default_str();
  app.add_option("--eval-timeout", o.episode.eval_timeout_s, "seconds")->check(number_above_zero())->capture_default_str();
  app.add_option("--backend", backend, "native | docker")
      ->check(accepted_by([](const std::string& s) { parse_backend(s); }))->type_name("B")
      ->capture_default_str();
  app.add_option("--cache", o.cache_dir, "base-tree cache (default $SWEBOX_CACHE or ~/.cache/swebox/trees)")->type_name("DIR");
  app.add_option("--templates", o.templates_dir, "prompt and notice templates overriding the shipped ones")->type_name("DIR");
  app.add_option("--tokenizer", o.tokenizer_file,
                 "counts the budgets' tokens: a GGUF model's vocabulary, a tokenizer.json, tiktoken ranks or a "
                 "llama2.c tokenizer.bin (default: bytes/4)")
      ->type_name("FILE");
  app.add_option("--environments", o.environments, "environment table (default tasks/environments.json)")->type_name("FILE");
  app.add_option("--run-id", o.run_id, "names the evaluation folders")->type_name("ID")->capture_default_str();
  auto& sampling = o.policy_options.sampling;
  app.add_option_function<double>("--temperature", [&](double v) { sampling["temperature"] = v; }, "sampling (openai)")
      ->check(number_at_least_zero());
  app.add_option_function<double>("--top-p", [&](double v) { sampling["top_p"] = v; }, "sampling (openai)")->check(fraction());
  app.add_option_function<long>("--max-tokens", [&](long v) { sampling["max_tokens"] = v; }, "per reply (openai)")
      ->check(whole_number_at_least(1));
  app.add_option_function<long>("--seed", [&](long v) { sampling["seed"] = v; }, "sampling (openai)");
  app.add_option("--request-timeout", o.policy_options.request_timeout_s, "seconds per policy request")
      ->check(number_above_zero())
      ->capture_default_str();
  app.add_flag("--quiet", quiet, "no progress output");
  if (auto status = parse_command_line(app, argc, argv)) return *status;

  // The profile first, then the flags that override it.
  apply_profile(parse_profile(profile), o.episode, o.policy_options);
  if (strict) o.episode.strict = true;
  if (lenient) o.episode.strict = false;
  o.retry_errors = !no_retry_errors;
  o.episode.plugins = !no_plugins;
  o.episode.evaluate = !no_eval;
  o.progress = !quiet;
  if (!instances.empty()) o.instance_ids = swebox::tasks::parse_instance_ids(instances);
  o.episode.reward = parse_reward_kind(reward);
  o.episode.think = parse_think_mode(think);
  o.episode.grading = swebox::tasks::parse_grading_mode(grading);
  o.episode.backend = parse_backend(backend);
  o.argv.assign(argv, argv + argc);
  o.argv.insert(o.argv.begin(), "swebox");

  // The sandbox helper is forked from this process: start it before a policy loads weights or
  // the job starts threads, so that it (and every sandbox) stays small.
  if (o.episode.backend == swebox::sandbox::Backend::native) {
    try {
      swebox::sandbox::start_native_backend();
    } catch (const std::exception& e) {
      std::fprintf(stderr, "swebox run: cannot start the sandbox helper: %s\n", e.what());
      return 1;
    }
  }
  return run_job(o);
}
