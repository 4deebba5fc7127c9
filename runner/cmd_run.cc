// swebox run: the main job's command line (the job itself is run_job.cc).
#include <cstdio>
#include <cstdlib>
#include <string>

#include "runner/run_job.h"
#include "tasks/evaluation.h"
#include "tasks/suite.h"

namespace {

const char* kUsage = R"(usage: swebox run --suite FILE --policy SPEC --repos DIR --out DIR [options]

Runs an agent on every instance of a suite, each episode in its own sandbox; evaluates each final
diff with the instance's tests; writes OUT/trajectories.jsonl (one episode a line, written whole as
each finishes), OUT/predictions.jsonl, OUT/logs/run_evaluation/... and OUT/summary.json.

  --suite FILE          SWE-bench instances (JSONL or JSON)
  --policy SPEC         oracle | openai:http://HOST:PORT/v1[?api=completions][#model] |
                        replay:TRAJECTORIES.jsonl | model:PATH
  --repos DIR           DIR/<owner>__<name> git repositories
  --out DIR             output directory
  -j N                  episodes in flight (default 1)
  --samples K           episodes per instance (pass@k; default 1)
  --resume              continue a run in OUT: skip the episodes already recorded
  --instances IDS       only these ids (comma separated, or @FILE)
  --max-turns N         default 128
  --context-size N      tokens, default 131072
  --strict | --lenient  format errors fail the episode | are sent back (default; 3 in a row end it)
  --reward KIND         test | similarity | both | none (default test)
  --similarity-threshold X   default 0.5 (--reward both)
  --think MODE          off | tag | token (default off)
  --no-plugins          offer only bash and submit
  --no-eval             skip running the tests (no resolution, no test reward)
  --grading MODE        sealed | swebench (default sealed): sealed judges the submitted patch (the
                        workspace diff when nothing was submitted) with test infrastructure
                        stripped and test files reset; swebench judges the whole workspace diff
                        as SWE-bench would. Every record and report names the mode.
  --wall-limit S        per-episode lifetime, default 2400
  --bash-timeout S      per call, default 120
  --eval-timeout S      default 1800
  --backend B           native | docker (default native)
  --cache DIR           base-tree cache (default $SWEBOX_CACHE or ~/.cache/swebox/trees)
  --templates DIR       prompt and notice templates overriding the shipped ones
  --environments FILE   environment table (default tasks/environments.json)
  --run-id ID           names the evaluation folders (default swebox)
  --temperature X, --top-p X, --max-tokens N, --seed N    sampling (openai)
  --request-timeout S   per policy request, default 600
  --quiet               no progress output
)";

}  // namespace

int cmd_run(int argc, char** argv) {
  using swebox::runner::RunOptions;
  RunOptions o;
  auto fail = [](const std::string& msg) {
    std::fprintf(stderr, "swebox run: %s\n(see swebox run --help)\n", msg.c_str());
    return 2;
  };
  try {
    for (int i = 1; i < argc; ++i) {
      std::string a = argv[i];
      auto value = [&]() -> std::string {
        if (i + 1 >= argc) throw std::invalid_argument(a + " needs a value");
        return argv[++i];
      };
      auto number = [&]() -> double {
        std::string v = value();
        char* end = nullptr;
        double d = std::strtod(v.c_str(), &end);
        if (v.empty() || *end) throw std::invalid_argument(a + " takes a number, not '" + v + "'");
        return d;
      };
      if (a == "-h" || a == "--help") {
        std::fputs(kUsage, stdout);
        return 0;
      } else if (a == "--suite") o.suite = value();
      else if (a == "--policy") o.policy = value();
      else if (a == "--repos") o.repos_dir = value();
      else if (a == "--out") o.out_dir = value();
      else if (a == "-j" || a == "--jobs") o.jobs = static_cast<int>(number());
      else if (a.rfind("-j", 0) == 0 && a.size() > 2) o.jobs = std::atoi(a.c_str() + 2);
      else if (a == "--samples") o.samples = static_cast<int>(number());
      else if (a == "--resume") o.resume = true;
      else if (a == "--force") o.force = true;
      else if (a == "--no-retry-errors") o.retry_errors = false;
      else if (a == "--instances") o.instance_ids = swebox::tasks::parse_instance_ids(value());
      else if (a == "--max-turns") o.episode.max_turns = static_cast<long>(number());
      else if (a == "--context-size") o.episode.context_size = static_cast<size_t>(number());
      else if (a == "--strict") o.episode.strict = true;
      else if (a == "--lenient") o.episode.strict = false;
      else if (a == "--reward") o.episode.reward = swebox::runner::parse_reward_kind(value());
      else if (a == "--similarity-threshold") o.episode.similarity_threshold = number();
      else if (a == "--think") {
        std::string m = value();
        if (m == "off") o.episode.think = swebox::tools::ThinkMode::off;
        else if (m == "tag") o.episode.think = swebox::tools::ThinkMode::tag;
        else if (m == "token") o.episode.think = swebox::tools::ThinkMode::token;
        else throw std::invalid_argument("--think takes off, tag or token, not '" + m + "'");
      } else if (a == "--no-plugins") o.episode.plugins = false;
      else if (a == "--no-eval") o.episode.evaluate = false;
      else if (a == "--grading") o.episode.grading = swebox::tasks::parse_grading_mode(value());
      else if (a == "--wall-limit") o.episode.wall_limit_s = number();
      else if (a == "--bash-timeout") o.episode.bash_timeout_s = number();
      else if (a == "--eval-timeout") o.episode.eval_timeout_s = number();
      else if (a == "--backend") {
        std::string b = value();
        if (b == "native") o.episode.backend = swebox::sandbox::Backend::native;
        else if (b == "docker") o.episode.backend = swebox::sandbox::Backend::docker;
        else throw std::invalid_argument("--backend takes native or docker, not '" + b + "'");
      } else if (a == "--cache") o.cache_dir = value();
      else if (a == "--templates") o.templates_dir = value();
      else if (a == "--environments") o.environments = value();
      else if (a == "--run-id") o.run_id = value();
      else if (a == "--temperature") o.policy_options.sampling["temperature"] = number();
      else if (a == "--top-p") o.policy_options.sampling["top_p"] = number();
      else if (a == "--max-tokens") o.policy_options.sampling["max_tokens"] = static_cast<long>(number());
      else if (a == "--seed") o.policy_options.sampling["seed"] = static_cast<long>(number());
      else if (a == "--request-timeout") o.policy_options.request_timeout_s = number();
      else if (a == "--quiet") o.progress = false;
      else return fail("unknown option '" + a + "'");
    }
  } catch (const std::exception& e) {
    return fail(e.what());
  }
  o.argv.assign(argv, argv + argc);
  o.argv.insert(o.argv.begin(), "swebox");
  // The sandbox helper is forked from this process: start it before a policy loads weights or
  // the job starts threads, so that it (and every sandbox) stays small.
  if (o.episode.backend == swebox::sandbox::Backend::native) {
    try {
      swebox::sandbox::start_native_backend();
    } catch (const std::exception& e) {
      return fail(std::string("cannot start the sandbox helper: ") + e.what());
    }
  }
  return swebox::runner::run_job(o);
}
