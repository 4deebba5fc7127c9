#include "runner/run_job.h"

#include <csignal>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/thread_pool.hpp>

#include "runner/run_display.h"
#include "runner/run_identity.h"
#include "runner/run_summary.h"
#include "sandbox/text_encoding.h"
#include "tasks/environment.h"
#include "tasks/preflight.h"
#include "tasks/reports.h"
#include "tasks/suite.h"
#include "tasks/workspace_cache.h"
#include "trajectories/export.h"
#include "trajectories/writer.h"

namespace swebox::runner {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

// Messages quote paths, ids and server replies: invalid UTF-8 in them is replaced.
int say(int code, const std::string& msg) {
  std::fprintf(stderr, "swebox run: %s\n", sandbox::to_valid_utf8(msg).c_str());
  return code;
}

std::string shell_quote(const std::string& s) {
  if (!s.empty() && s.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./:=@,+%") ==
                        std::string::npos)
    return s;
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

// The command that continues this run: as typed, with --resume.
std::string resume_command(const RunOptions& o) {
  std::vector<std::string> args = o.argv;
  if (args.empty()) args = {"swebox", "run", "--suite", o.suite, "--policy", o.policy, "--repos", o.repos_dir, "--out", o.out_dir};
  bool has = false;
  for (const std::string& a : args) has = has || a == "--resume";
  if (!has) args.push_back("--resume");
  std::string cmd;
  for (const std::string& a : args) cmd += (cmd.empty() ? "" : " ") + shell_quote(a);
  return cmd;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

struct Work {
  const tasks::Instance* instance;
  int sample;
};

}  // namespace

int run_job(const RunOptions& options) {
  RunOptions o = options;  // the episode config gains the tokenizer below
  auto t0 = Clock::now();
  if (o.suite.empty() || o.repos_dir.empty() || o.out_dir.empty() || o.policy.empty())
    return say(kRunCannotStart, "--suite, --policy, --repos and --out are required (see swebox run --help)");
  if (o.jobs < 1 || o.samples < 1) return say(kRunCannotStart, "-j and --samples must be at least 1");

  // ---- the suite: bad records are reported and skipped, the rest run (and the exit status says so)
  tasks::SuiteLoad suite = tasks::load_suite(o.suite);
  for (const std::string& e : suite.errors) say(0, "skipping: " + e);
  if (suite.instances.empty() && !suite.errors.empty() && suite.errors.size() == 1 &&
      suite.errors[0].find("cannot open") != std::string::npos)
    return say(kRunCannotStart, suite.errors[0]);
  std::vector<std::string> missing;
  std::vector<tasks::Instance> instances = tasks::filter_instances(suite.instances, o.instance_ids, &missing);
  if (!missing.empty()) {
    std::string list;
    for (const std::string& id : missing) list += (list.empty() ? "" : ", ") + id;
    return say(kRunCannotStart, "--instances names ids that are not in " + o.suite + ": " + list);
  }
  if (instances.empty()) return say(kRunCannotStart, "no runnable instance in " + o.suite);

  // ---- the output directory: one writer, resumable
  std::error_code ec;
  fs::create_directories(o.out_dir, ec);
  if (ec) return say(kRunCannotStart, "cannot create --out " + o.out_dir + ": " + ec.message());
  const std::string traj_path = o.out_dir + "/trajectories.jsonl";
  const std::string identity_path = o.out_dir + "/run.json";
  std::unique_ptr<traj::JsonlAppender> writer;
  std::set<std::string> done;
  size_t recorded = 0;
  try {
    writer = std::make_unique<traj::JsonlAppender>(traj_path);
    if (writer->repaired_bytes())
      say(0, "removed a torn last record (" + std::to_string(writer->repaired_bytes()) + " bytes) from " + traj_path);
    recorded = traj::done_keys(traj_path).size();
    done = traj::done_keys(traj_path, o.retry_errors);
  } catch (const std::exception& e) {
    return say(kRunCannotStart, e.what());
  }
  if (recorded && !o.resume)
    return say(kRunCannotStart, traj_path + " already holds " + std::to_string(recorded) +
                                    " episodes; pass --resume to continue that run, or choose another --out");

  // ---- the policy and what the episodes share
  boost::asio::io_context io;
  RunDisplay* retry_notes = nullptr;  // the display, once there is one
  std::unique_ptr<Policy> policy;
  std::unique_ptr<tasks::EnvironmentTable> environments;
  tools::Templates templates;
  try {
    // Retries are printed as they happen, one line per 10 s at most (every episode in flight
    // retries when the endpoint goes away).
    o.policy_options.on_retry = [&retry_notes, last = Clock::time_point()](const std::string& what) mutable {
      if (!retry_notes || (last != Clock::time_point() && Clock::now() - last < std::chrono::seconds(10))) return;
      last = Clock::now();
      retry_notes->note("endpoint: " + what);
    };
    policy = make_policy(o.policy, io, o.policy_options);
    environments = std::make_unique<tasks::EnvironmentTable>(
        tasks::EnvironmentTable::load(o.environments.empty() ? tasks::EnvironmentTable::default_path() : o.environments));
    templates = tools::load_templates(o.templates_dir);
    // Without --tokenizer, the policy's own (the embedded model's vocabulary) counts the budgets.
    if (o.tokenizer_file.empty()) o.tokenizer_file = policy->tokenizer_file();
    if (!o.tokenizer_file.empty()) {
      o.episode.tokenizer = model::load_tokenizer(o.tokenizer_file);
      o.episode.tokenizer_id = tasks::content_id(read_file(o.tokenizer_file));
    }
  } catch (const std::exception& e) {
    return say(kRunCannotStart, e.what());
  }
  tasks::WorkspaceCache cache(o.repos_dir, o.cache_dir.empty() ? tasks::default_workspace_cache_dir() : o.cache_dir);

  // ---- the run's identity: a resume must continue the same run
  nlohmann::json identity, templates_id;
  try {
    std::string template_texts;
    for (const auto& [key, text] : templates.all()) template_texts += key + '\0' + text + '\0';
    templates_id = {{"set", o.templates_dir.empty() ? std::string("shipped") : o.templates_dir},
                    {"content_id", tasks::content_id(template_texts)}};
    identity = {{"profile", to_string(o.episode.profile)},
                {"policy", o.policy},
                {"model", policy->model_name()},
                {"sampling", policy->sampling()},
                {"suite", tasks::content_id(read_file(o.suite))},
                {"config", o.episode.to_json()},
                {"templates", tasks::content_id(template_texts)},
                {"environments", tasks::content_id(read_file(environments->source()))},
                {"swebox_version", swebox_version()}};
  } catch (const std::exception& e) {
    return say(kRunCannotStart, std::string("cannot record the run's identity: ") + e.what());
  }
  nlohmann::json identity_file = {{"identity", identity}, {"run_id", o.run_id}, {"suite_path", o.suite}};
  bool record_identity = !recorded;  // a fresh run records its identity (after the preflight)
  if (recorded && fs::exists(identity_path)) {
    nlohmann::json was;
    try {
      was = nlohmann::json::parse(read_file(identity_path)).at("identity");
      // Runs recorded before profiles existed ran the swebox profile.
      if (was.is_object() && !was.contains("profile")) was["profile"] = "swebox";
      if (was.is_object() && was.contains("config") && was["config"].is_object() && !was["config"].contains("profile"))
        was["config"]["profile"] = "swebox";
    } catch (const std::exception& e) {
      return say(kRunCannotStart, identity_path + " is unreadable (" + e.what() + "); move it away to resume "
                                  "without comparing the run's identity");
    }
    std::vector<std::string> diffs = identity_differences(was, identity);
    if (!diffs.empty() && !o.force) {
      std::string msg = "--resume would continue the run in " + o.out_dir + " with a different identity:";
      for (const std::string& d : diffs) msg += "\n  " + d;
      msg += "\nits episodes would not be comparable (one pass@k over two setups). Use the recorded settings, "
             "choose another --out, or pass --force to resume anyway (recorded in run.json)";
      return say(kRunCannotStart, msg);
    }
    if (!diffs.empty()) {
      say(0, "resuming despite a different identity (--force): " + std::to_string(diffs.size()) + " field(s) differ");
      identity_file["forced_from"] = was;
      record_identity = true;
    }
  } else if (recorded) {
    say(0, "no " + identity_path + " (a run from before swebox recorded one): recording this run's identity now");
    record_identity = true;
  }

  // ---- preflight: everything every episode needs, checked at once
  std::deque<Work> queue;
  std::vector<tasks::Instance> to_check;
  for (const tasks::Instance& inst : instances) {
    bool any = false;
    for (int s = 0; s < o.samples; ++s)
      if (!done.count(traj::episode_key(inst.instance_id, s))) {
        queue.push_back({&inst, s});
        any = true;
      }
    if (any) to_check.push_back(inst);
  }
  {
    tasks::PreflightOptions po;
    po.cache = &cache;
    po.environments = o.episode.evaluate ? environments.get() : nullptr;
    po.need_problem_statement = true;
    std::vector<std::string> problems = tasks::preflight_tasks(to_check, po);
    if (!queue.empty())
      if (std::string p = policy->preflight(); !p.empty()) problems.push_back("policy: " + p);
    if (!problems.empty()) {
      std::string msg = "preflight failed, no episode was run:";
      for (const std::string& p : problems) msg += "\n  - " + p;
      return say(kRunCannotStart, msg);
    }
  }
  if (record_identity) {
    try {
      traj::write_file_atomically(identity_path, identity_file.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n");
    } catch (const std::exception& e) {
      return say(kRunCannotStart, e.what());
    }
  }
  const size_t rerun = recorded > done.size() ? recorded - done.size() : 0;
  if (o.resume && recorded)
    say(0, "resuming: " + std::to_string(done.size()) + " episodes already done, " + std::to_string(queue.size()) +
               " to run" + (rerun ? " (" + std::to_string(rerun) + " infra errors again)" : ""));

  // ---- the loop: -j N episodes in flight; blocking steps (set-up, diff, evaluation) go to the pool
  boost::asio::thread_pool blocking(static_cast<size_t>(std::min(o.jobs, 64)) + 1);
  const size_t to_run = queue.size();
  RunDisplay display(io, {to_run, done.size(), o.jobs, o.out_dir, o.progress, 60, o.episode.evaluate});
  retry_notes = &display;
  EpisodeServices services{io, blocking, cache, *environments, o.repos_dir, templates, *policy, o.policy, o.run_id,
                           o.out_dir + "/logs/run_evaluation"};
  services.templates_id = templates_id;
  services.on_turn = [&display](const traj::Episode& e) {
    display.turn(traj::episode_key(e.instance_id, e.sample), static_cast<int>(e.turns.size()) + 1,
                 e.usage.prompt_tokens + e.usage.completion_tokens);
  };
  size_t in_flight = 0, recorded_now = 0;
  int write_errors = 0, endpoint_failures_in_a_row = 0, signals = 0;
  bool endpoint_down = false, abandon = false;
  std::function<void()> launch = [&] {
    while (in_flight < static_cast<size_t>(o.jobs) && !queue.empty()) {
      Work w = queue.front();
      queue.pop_front();
      ++in_flight;
      std::string key = traj::episode_key(w.instance->instance_id, w.sample);
      display.episode_started(key, w.instance->instance_id);
      run_episode(services, o.episode, *w.instance, w.sample, [&, key](traj::Episode e) {
        --in_flight;
        if (abandon) return;  // a second Ctrl-C: this record is not kept (the episode runs again on resume)
        try {
          writer->append(traj::to_json(e));
          ++recorded_now;
        } catch (const std::exception& ex) {
          ++write_errors;
          display.note(e.instance_id + ": " + ex.what());
        }
        display.episode_done(key, e);
        bool endpoint = e.outcome() == traj::Outcome::infra_error && e.extra.is_object() &&
                        e.extra.value("infra_stage", std::string()) == "endpoint";
        endpoint_failures_in_a_row = endpoint ? endpoint_failures_in_a_row + 1 : 0;
        if (endpoint && endpoint_failures_in_a_row >= o.max_endpoint_failures && !endpoint_down) {
          endpoint_down = true;
          display.note("the policy's endpoint failed " + std::to_string(endpoint_failures_in_a_row) +
                       " episodes in a row; no new episode is started (" + std::to_string(queue.size()) +
                       " left). Last: " + e.terminal.reason.substr(0, 300));
          queue.clear();
        }
        launch();
      });
    }
  };
  // Ctrl-C: the first stops new episodes and lets those in flight finish; the second (or SIGTERM)
  // stops now: what is recorded stays, the episodes in flight run again on resume.
  boost::asio::signal_set stop_signals(io, SIGINT, SIGTERM);
  std::function<void(const boost::system::error_code&, int)> on_signal = [&](const boost::system::error_code& err, int sig) {
    if (err) return;
    ++signals;
    if (sig == SIGTERM || signals > 1) {
      abandon = true;
      display.note("stopping now; " + std::to_string(in_flight) + " episode(s) in flight are abandoned (they run again on resume)");
    } else {
      display.note("stopping: no new episode is started; " + std::to_string(in_flight) +
                   " in flight finish (Ctrl-C again to stop them now)");
      queue.clear();
    }
    stop_signals.async_wait(on_signal);
  };
  stop_signals.async_wait(on_signal);
  auto work = boost::asio::make_work_guard(io);
  display.start();
  launch();
  while (in_flight > 0 && !abandon) io.run_one();
  display.stop();
  retry_notes = nullptr;
  stop_signals.cancel();
  const bool interrupted = signals > 0;

  // ---- the outputs derived from the trajectories (all of them: a resumed run includes earlier ones)
  double wall_s = std::chrono::duration<double>(Clock::now() - t0).count();
  int code = kRunOk;
  try {
    std::vector<traj::Episode> episodes = traj::latest_per_key(traj::read_trajectories(traj_path));
    traj::write_predictions(episodes, o.out_dir + "/predictions.jsonl");
    if (o.samples > 1) traj::write_predictions(episodes, o.out_dir + "/predictions.all.jsonl", true);
    nlohmann::json summary = summarize_run(episodes, wall_s);
    if (!o.episode.evaluate) {
      // --no-eval: nothing was graded, so there is no resolution to report (a pass@1 of 0 would
      // read as the model's result).
      summary["evaluated"] = false;
      summary["pass_at_k"] = nlohmann::json::object();
      for (const char* k : {"resolved_episodes", "resolved_instances", "resolved_ids"}) summary.erase(k);
    }
    summary["run_id"] = o.run_id;
    summary["suite"] = o.suite;
    summary["policy"] = o.policy;
    summary["model"] = policy->model_name();
    summary["samples"] = o.samples;
    summary["jobs"] = o.jobs;
    summary["config"] = o.episode.to_json();
    summary["grading"] = tasks::to_string(o.episode.grading);
    summary["episodes_this_invocation"] = to_run;
    summary["skipped_records"] = suite.errors;
    summary["stopped"] = abandon ? "interrupted, episodes in flight abandoned"
                         : interrupted ? "interrupted, episodes in flight finished"
                         : endpoint_down ? "the endpoint failed repeatedly"
                                         : "";
    // What this invocation left for a --resume: never launched, abandoned in flight, or not recorded.
    summary["episodes_not_run"] = to_run - recorded_now;
    std::vector<std::pair<std::string, std::string>> outputs = {
        {"trajectories", traj_path},
        {"predictions", o.out_dir + "/predictions.jsonl"},
        {"summary", o.out_dir + "/summary.json"},
        {"run identity", identity_path}};
    // SWE-bench's run report over sample 0 (its reports are per instance); an infra error is an
    // error with its reason, not an empty patch.
    if (o.episode.evaluate) {
      tasks::SwebenchRunReportInput in;
      in.run_id = o.run_id;
      in.model = policy->model_name();
      in.out_dir = o.out_dir + "/logs/run_evaluation";
      in.grading = tasks::to_string(o.episode.grading);
      for (const tasks::Instance& inst : instances) in.dataset_ids.push_back(inst.instance_id);
      for (const traj::Episode& e : episodes) {
        if (e.sample != 0) continue;
        if (e.outcome() == traj::Outcome::infra_error) in.errors[e.instance_id] = e.terminal.reason;
        else in.predictions[e.instance_id] = e.terminal.judged_patch();
      }
      nlohmann::json swebench = tasks::swebench_run_report(in);
      summary["swebench_report"] = tasks::write_swebench_run_report(in, swebench);
      outputs.push_back({"SWE-bench report", summary["swebench_report"]});
    }
    outputs.push_back({"this summary", o.out_dir + "/summary.md"});
    // Invalid UTF-8 (from a suite or a workspace) is replaced, not thrown on: the summary is always written.
    traj::write_file_atomically(o.out_dir + "/summary.json",
                                summary.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n");
    std::string md = summary_markdown(summary, episodes, outputs);
    traj::write_file_atomically(o.out_dir + "/summary.md", md);
    std::fprintf(stderr, "\n%s", md.c_str());
    bool infra = summary.value("infra_error_episodes", 0) > 0;
    if (infra || !suite.errors.empty()) code = kRunInfraErrors;
  } catch (const std::exception& e) {
    say(0, std::string("writing the run's outputs failed: ") + e.what());
    code = kRunCannotStart;
  }
  if (write_errors && code == kRunOk) code = kRunCannotStart;
  if (endpoint_down) code = kRunEndpointDown;
  if (interrupted) code = kRunInterrupted;
  if (interrupted || endpoint_down || code == kRunInfraErrors)
    std::fprintf(stderr, "\nTo continue (recorded episodes are kept; infra errors run again):\n  %s\n",
                 resume_command(o).c_str());
  std::fflush(stderr);
  if (abandon) {
    // Episodes still hold the pool's threads: leave without waiting for them. The sandbox helper
    // sees this process go and kills and removes every sandbox it made.
    std::_Exit(code);
  }
  work.reset();
  blocking.join();
  return code;
}

}  // namespace swebox::runner
