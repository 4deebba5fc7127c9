#include "runner/run_job.h"

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <filesystem>
#include <fstream>
#include <set>

#include <boost/asio/io_context.hpp>
#include <boost/asio/thread_pool.hpp>

#include "runner/run_summary.h"
#include "tasks/environment.h"
#include "tasks/reports.h"
#include "tasks/suite.h"
#include "tasks/workspace_cache.h"
#include "trajectories/export.h"
#include "trajectories/writer.h"

namespace swebox::runner {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

std::string duration_text(double s) {
  char buf[32];
  if (s < 90) std::snprintf(buf, sizeof buf, "%.0fs", s);
  else if (s < 5400) std::snprintf(buf, sizeof buf, "%.0fm", s / 60);
  else std::snprintf(buf, sizeof buf, "%.1fh", s / 3600);
  return buf;
}

// Done / resolved / rate / ETA: one rewritten line on a terminal, a plain line now and then otherwise.
class Progress {
 public:
  Progress(size_t total, bool enabled) : total_(total), enabled_(enabled), tty_(isatty(STDERR_FILENO)), t0_(Clock::now()) {}
  void episode_done(bool resolved) {
    ++done_;
    if (resolved) ++resolved_;
    if (!enabled_) return;
    double elapsed = std::chrono::duration<double>(Clock::now() - t0_).count();
    bool last = done_ == total_;
    if (!tty_ && !last && done_ % std::max<size_t>(1, total_ / 10) != 0 && elapsed - last_print_ < 30) return;
    last_print_ = elapsed;
    double rate = elapsed > 0 ? done_ * 60.0 / elapsed : 0;
    double eta = done_ ? elapsed / done_ * (total_ - done_) : 0;
    std::fprintf(stderr, "%s[%zu/%zu] resolved %zu (%.0f%%) | %.1f episodes/min | ETA %s%s", tty_ ? "\r\033[K" : "",
                 done_, total_, resolved_, done_ ? 100.0 * resolved_ / done_ : 0.0, rate, duration_text(eta).c_str(),
                 tty_ && !last ? "" : "\n");
    std::fflush(stderr);
  }

 private:
  size_t total_, done_ = 0, resolved_ = 0;
  bool enabled_, tty_;
  Clock::time_point t0_;
  double last_print_ = -1e9;
};

struct Work {
  const tasks::Instance* instance;
  int sample;
};

}  // namespace

int run_job(const RunOptions& o) {
  auto t0 = Clock::now();
  if (o.suite.empty() || o.repos_dir.empty() || o.out_dir.empty()) {
    std::fprintf(stderr, "swebox run: --suite, --repos and --out are required (see swebox run --help)\n");
    return 1;
  }
  if (o.jobs < 1 || o.samples < 1) {
    std::fprintf(stderr, "swebox run: -j and --samples must be at least 1\n");
    return 1;
  }
  // The suite: bad records are reported and skipped, the rest run.
  tasks::SuiteLoad suite = tasks::load_suite(o.suite);
  for (const std::string& e : suite.errors) std::fprintf(stderr, "swebox run: skipping: %s\n", e.c_str());
  std::vector<std::string> missing;
  std::vector<tasks::Instance> instances = tasks::filter_instances(suite.instances, o.instance_ids, &missing);
  for (const std::string& id : missing)
    std::fprintf(stderr, "swebox run: unknown instance '%s' (not in %s)\n", id.c_str(), o.suite.c_str());
  if (instances.empty()) {
    std::fprintf(stderr, "swebox run: no runnable instance in %s\n", o.suite.c_str());
    return 1;
  }

  std::error_code ec;
  fs::create_directories(o.out_dir, ec);
  if (ec) {
    std::fprintf(stderr, "swebox run: cannot create --out %s: %s\n", o.out_dir.c_str(), ec.message().c_str());
    return 1;
  }
  const std::string traj_path = o.out_dir + "/trajectories.jsonl";
  std::unique_ptr<traj::JsonlAppender> writer;
  std::set<std::string> done;
  try {
    writer = std::make_unique<traj::JsonlAppender>(traj_path);
    if (writer->repaired_bytes())
      std::fprintf(stderr, "swebox run: removed a torn last record (%zu bytes) from %s\n", writer->repaired_bytes(),
                   traj_path.c_str());
    done = traj::done_keys(traj_path);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "swebox run: %s\n", e.what());
    return 1;
  }
  if (!done.empty() && !o.resume) {
    std::fprintf(stderr,
                 "swebox run: %s already holds %zu episodes; pass --resume to continue that run, or choose another --out\n",
                 traj_path.c_str(), done.size());
    return 1;
  }

  boost::asio::io_context io;
  std::unique_ptr<Policy> policy;
  std::unique_ptr<tasks::EnvironmentTable> environments;
  tools::Templates templates;
  try {
    policy = make_policy(o.policy, io, o.policy_options);
    environments = std::make_unique<tasks::EnvironmentTable>(
        tasks::EnvironmentTable::load(o.environments.empty() ? tasks::EnvironmentTable::default_path() : o.environments));
    templates = tools::load_templates(o.templates_dir);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "swebox run: %s\n", e.what());
    return 1;
  }
  tasks::WorkspaceCache cache(o.repos_dir, o.cache_dir.empty() ? tasks::default_workspace_cache_dir() : o.cache_dir);

  std::deque<Work> queue;
  for (const tasks::Instance& inst : instances)
    for (int s = 0; s < o.samples; ++s)
      if (!done.count(traj::episode_key(inst.instance_id, s))) queue.push_back({&inst, s});
  if (o.resume && !done.empty())
    std::fprintf(stderr, "swebox run: resuming: %zu episodes already done, %zu to run\n", done.size(), queue.size());

  // Blocking steps (set-up, diff, evaluation) go to the pool; everything else runs on `io`.
  boost::asio::thread_pool blocking(static_cast<size_t>(std::min(o.jobs, 64)) + 1);
  EpisodeServices services{io, blocking, cache, *environments, o.repos_dir, templates, *policy, o.policy, o.run_id,
                           o.out_dir + "/logs/run_evaluation"};
  const size_t to_run = queue.size();
  Progress progress(to_run, o.progress);
  size_t in_flight = 0;
  int write_errors = 0;
  std::function<void()> launch = [&] {
    while (in_flight < static_cast<size_t>(o.jobs) && !queue.empty()) {
      Work w = queue.front();
      queue.pop_front();
      ++in_flight;
      run_episode(services, o.episode, *w.instance, w.sample, [&](traj::Episode e) {
        --in_flight;
        try {
          writer->append(traj::to_json(e));
        } catch (const std::exception& ex) {
          ++write_errors;
          std::fprintf(stderr, "\nswebox run: %s: %s\n", e.instance_id.c_str(), ex.what());
        }
        progress.episode_done(e.resolved());
        launch();
      });
    }
  };
  auto work = boost::asio::make_work_guard(io);
  launch();
  while (in_flight > 0) io.run_one();
  work.reset();
  blocking.join();

  // The outputs derived from the trajectories (all of them: a resumed run includes earlier ones).
  double wall_s = std::chrono::duration<double>(Clock::now() - t0).count();
  try {
    std::vector<traj::Episode> episodes = traj::read_trajectories(traj_path);
    traj::write_predictions(episodes, o.out_dir + "/predictions.jsonl");
    if (o.samples > 1) traj::write_predictions(episodes, o.out_dir + "/predictions.all.jsonl", true);
    nlohmann::json summary = summarize_run(episodes, wall_s);
    summary["run_id"] = o.run_id;
    summary["suite"] = o.suite;
    summary["policy"] = o.policy;
    summary["model"] = policy->model_name();
    summary["samples"] = o.samples;
    summary["jobs"] = o.jobs;
    summary["config"] = o.episode.to_json();
    summary["grading"] = tasks::to_string(o.episode.grading);
    summary["episodes_this_invocation"] = to_run;
    // SWE-bench's run report over sample 0 (its reports are per instance).
    if (o.episode.evaluate) {
      tasks::SwebenchRunReportInput in;
      in.run_id = o.run_id;
      in.model = policy->model_name();
      in.out_dir = o.out_dir + "/logs/run_evaluation";
      for (const tasks::Instance& inst : instances) in.dataset_ids.push_back(inst.instance_id);
      for (const traj::Episode& e : episodes)
        if (e.sample == 0) in.predictions[e.instance_id] = e.terminal.judged_patch();
      nlohmann::json swebench = tasks::swebench_run_report(in);
      summary["swebench_report"] = tasks::write_swebench_run_report(in, swebench);
    }
    // Invalid UTF-8 (from a suite or a workspace) is replaced, not thrown on: the summary is always written.
    traj::write_file_atomically(o.out_dir + "/summary.json",
                                summary.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n");
  } catch (const std::exception& e) {
    std::fprintf(stderr, "swebox run: writing the run's outputs failed: %s\n", e.what());
    return 1;
  }
  return write_errors ? 1 : 0;
}

}  // namespace swebox::runner
