// What the operator sees of a run. On a terminal: a start line, then one live line rewritten every
// second (done/total, resolved, infra errors, what is in flight and at which turn, elapsed, rate,
// ETA, tokens). Off a terminal (a log file, Slurm): the start line and a heartbeat line at a fixed
// interval. Either way, infra errors are printed the moment they happen, with their reason. At the
// end, the same summary goes to the terminal and to OUT/summary.md (summary_markdown).
#pragma once

#include <chrono>
#include <map>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <nlohmann/json.hpp>

#include "trajectories/record.h"

namespace swebox::runner {

class RunDisplay {
 public:
  struct Options {
    size_t total = 0;            // episodes this invocation runs
    size_t already_done = 0;     // recorded by an earlier invocation (--resume)
    int jobs = 1;
    std::string out_dir;
    bool enabled = true;         // --quiet: only infra errors and the end
    double heartbeat_s = 60;     // off a terminal ($SWEBOX_HEARTBEAT_S overrides)
    bool evaluated = true;       // --no-eval: no resolution to show
  };
  RunDisplay(boost::asio::io_context& io, Options options);

  void start();
  void episode_started(const std::string& key, const std::string& instance_id);
  void turn(const std::string& key, int turn, int64_t tokens);  // tokens: the episode's so far
  void episode_done(const std::string& key, const traj::Episode& e);
  // A line printed above the live line (a warning, "stopping ...").
  void note(const std::string& line);
  void stop();

 private:
  struct InFlight {
    std::string instance_id;
    int turn = 0;
    int64_t tokens = 0;
  };
  void tick();
  std::string status_line() const;
  void clear_live();

  boost::asio::io_context& io_;
  Options o_;
  bool tty_;
  boost::asio::steady_timer timer_;
  std::chrono::steady_clock::time_point t0_;
  std::map<std::string, InFlight> in_flight_;
  size_t done_ = 0, resolved_ = 0, infra_ = 0;
  int64_t tokens_done_ = 0;
  bool live_shown_ = false, stopped_ = false;
};

// The end of a run as Markdown (status x count with example ids, pass@k, infra failures with their
// reasons, the outputs' paths): printed on the terminal and written as OUT/summary.md.
std::string summary_markdown(const nlohmann::json& summary, const std::vector<traj::Episode>& episodes,
                             const std::vector<std::pair<std::string, std::string>>& outputs);

}  // namespace swebox::runner
