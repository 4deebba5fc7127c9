#include "runner/run_display.h"

#include <sys/ioctl.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace swebox::runner {

using Clock = std::chrono::steady_clock;

namespace {

std::string duration_text(double s) {
  char buf[32];
  if (s < 90) std::snprintf(buf, sizeof buf, "%.0fs", s);
  else if (s < 5400) std::snprintf(buf, sizeof buf, "%.0fm%02.0fs", std::floor(s / 60), std::fmod(s, 60));
  else std::snprintf(buf, sizeof buf, "%.0fh%02.0fm", std::floor(s / 3600), std::fmod(s, 3600) / 60);
  return buf;
}

std::string count_text(int64_t n) {
  char buf[32];
  if (n < 10000) std::snprintf(buf, sizeof buf, "%lld", static_cast<long long>(n));
  else if (n < 10000000) std::snprintf(buf, sizeof buf, "%.1fk", n / 1e3);
  else std::snprintf(buf, sizeof buf, "%.1fM", n / 1e6);
  return buf;
}

// The live line must not wrap: "\r\033[K" clears one terminal line only.
std::string fit_terminal(std::string line) {
  winsize ws{};
  if (ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 10 && line.size() >= ws.ws_col)
    line = line.substr(0, ws.ws_col - 4) + "...";
  return line;
}

int64_t episode_tokens(const traj::Episode& e) { return e.usage.prompt_tokens + e.usage.completion_tokens; }

// Record fields are hostile text (an agent's output, a suite's ids): one line, no terminal escapes.
std::string one_line(std::string s, size_t max = 300) {
  for (char& c : s)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = ' ';
  if (s.size() > max) s = s.substr(0, max - 3) + "...";
  return s;
}

}  // namespace

RunDisplay::RunDisplay(boost::asio::io_context& io, Options options)
    : io_(io), o_(std::move(options)), tty_(isatty(STDERR_FILENO)), timer_(io) {
  if (const char* h = std::getenv("SWEBOX_HEARTBEAT_S"); h && *h) {
    char* end = nullptr;
    double v = std::strtod(h, &end);
    if (end && !*end && v > 0) o_.heartbeat_s = v;
  }
}

void RunDisplay::start() {
  t0_ = Clock::now();
  if (o_.enabled) {
    std::fprintf(stderr, "swebox run: %zu episodes to run%s, %d in flight at most, output in %s\n", o_.total,
                 o_.already_done ? (" (" + std::to_string(o_.already_done) + " already done)").c_str() : "", o_.jobs,
                 o_.out_dir.c_str());
    std::fflush(stderr);
  }
  tick();
}

void RunDisplay::episode_started(const std::string& key, const std::string& instance_id) {
  in_flight_[key] = {instance_id, 0, 0};
}

void RunDisplay::turn(const std::string& key, int turn, int64_t tokens) {
  if (auto it = in_flight_.find(key); it != in_flight_.end()) {
    it->second.turn = turn;
    it->second.tokens = tokens;
  }
}

void RunDisplay::episode_done(const std::string& key, const traj::Episode& e) {
  in_flight_.erase(key);
  ++done_;
  tokens_done_ += episode_tokens(e);
  traj::Outcome outcome = e.outcome();
  if (outcome == traj::Outcome::infra_error) {
    ++infra_;
    std::string stage = e.extra.is_object() ? e.extra.value("infra_stage", std::string()) : std::string();
    note("infra error: " + one_line(e.instance_id, 120) + " sample " + std::to_string(e.sample) +
         (stage.empty() ? "" : " (" + stage + ")") + ": " + one_line(e.terminal.reason));
  } else if (e.resolved()) {
    ++resolved_;
  }
  // Off a terminal, the last episode always gets its line.
  if (o_.enabled && !tty_ && done_ == o_.total) {
    std::fprintf(stderr, "%s\n", status_line().c_str());
    std::fflush(stderr);
  }
}

void RunDisplay::note(const std::string& line) {
  clear_live();
  std::fprintf(stderr, "swebox run: %s\n", line.c_str());
  std::fflush(stderr);
  if (o_.enabled && tty_ && !stopped_) {
    std::fprintf(stderr, "%s", fit_terminal(status_line()).c_str());
    std::fflush(stderr);
    live_shown_ = true;
  }
}

void RunDisplay::stop() {
  stopped_ = true;
  timer_.cancel();
  clear_live();
}

void RunDisplay::clear_live() {
  if (live_shown_) std::fprintf(stderr, "\r\033[K");
  live_shown_ = false;
}

std::string RunDisplay::status_line() const {
  double elapsed = std::chrono::duration<double>(Clock::now() - t0_).count();
  double rate = elapsed > 0 ? done_ * 60.0 / elapsed : 0;
  std::string eta = done_ ? duration_text(elapsed / done_ * (o_.total - done_)) : "?";
  int64_t tokens = tokens_done_;
  for (const auto& [key, f] : in_flight_) tokens += f.tokens;
  std::string flight;
  if (in_flight_.size() <= 3) {
    for (const auto& [key, f] : in_flight_)
      flight += (flight.empty() ? " " : ", ") + one_line(f.instance_id, 40) + " t" + std::to_string(f.turn);
  }
  char buf[512];
  std::string resolved = o_.evaluated ? "resolved " + std::to_string(resolved_) : std::string("not evaluated");
  std::snprintf(buf, sizeof buf,
                "[%zu/%zu] %s | infra errors %zu | in flight %zu%s | %s | %.1f/min | ETA %s | %s tokens", done_,
                o_.total, resolved.c_str(), infra_, in_flight_.size(), flight.c_str(), duration_text(elapsed).c_str(),
                rate, eta.c_str(), count_text(tokens).c_str());
  return buf;
}

void RunDisplay::tick() {
  if (!o_.enabled || stopped_) return;
  if (tty_) {
    clear_live();
    std::fprintf(stderr, "%s", fit_terminal(status_line()).c_str());
    live_shown_ = true;
    std::fflush(stderr);
  } else if (std::chrono::duration<double>(Clock::now() - t0_).count() > 0.5) {
    std::fprintf(stderr, "%s\n", status_line().c_str());  // the heartbeat
    std::fflush(stderr);
  }
  timer_.expires_after(std::chrono::milliseconds(static_cast<int64_t>((tty_ ? 1.0 : o_.heartbeat_s) * 1000)));
  timer_.async_wait([this](const boost::system::error_code& ec) {
    if (!ec) tick();
  });
}

std::string summary_markdown(const nlohmann::json& summary, const std::vector<traj::Episode>& episodes,
                             const std::vector<std::pair<std::string, std::string>>& outputs) {
  // status x count with example ids: resolved, unresolved by exit status, ambiguous, infra errors by stage.
  std::map<std::string, std::vector<std::string>> rows;
  std::map<std::string, std::string> reasons;  // infra errors: "id sample" -> reason
  const bool evaluated = summary.value("evaluated", true);
  for (const traj::Episode& e : episodes) {
    std::string who = one_line(e.instance_id, 120) + (e.sample ? " #" + std::to_string(e.sample) : "");
    switch (e.outcome()) {
      case traj::Outcome::infra_error: {
        std::string stage = e.extra.is_object() ? e.extra.value("infra_stage", std::string("other")) : "other";
        rows["infra error (" + stage + ")"].push_back(who);
        reasons[who] = one_line(e.terminal.reason, 400);
        break;
      }
      case traj::Outcome::ambiguous: rows["ambiguous (test log not gradeable)"].push_back(who); break;
      case traj::Outcome::model:
        rows[!evaluated     ? std::string("not evaluated: ") + traj::to_string(e.terminal.status)
             : e.resolved() ? std::string("resolved")
                            : std::string("unresolved: ") + traj::to_string(e.terminal.status)]
            .push_back(who);
        break;
    }
  }
  std::string md = "# swebox run " + one_line(summary.value("run_id", std::string()), 80) + "\n\n";
  for (const char* k : {"policy", "model", "suite", "grading"})
    if (summary.contains(k) && summary[k].is_string()) md += std::string("- ") + k + ": `" + one_line(summary[k]) + "`\n";
  md += "- samples per instance: " + summary.value("samples", nlohmann::json(1)).dump() + "\n\n";
  if (std::string stopped = summary.value("stopped", std::string()); !stopped.empty())
    md += "**Stopped early (" + stopped + "): " + summary.value("episodes_not_run", nlohmann::json(0)).dump() +
          " episodes not run; the counts below are of a partial run. `--resume` continues it.**\n\n";
  md += "| status | episodes | examples |\n| --- | --- | --- |\n";
  for (const auto& [status, ids] : rows) {
    std::string ex;
    for (size_t i = 0; i < ids.size() && i < 3; ++i) ex += (i ? ", " : "") + ids[i];
    if (ids.size() > 3) ex += ", ...";
    md += "| " + status + " | " + std::to_string(ids.size()) + " | " + ex + " |\n";
  }
  md += "\n";
  if (!evaluated) {
    md +=
        "pass@k: none, the tests were not run (--no-eval); `swebox eval --predictions` on the predictions "
        "below grades them\n\n";
  } else if (summary.contains("pass_at_k") && summary["pass_at_k"].is_object()) {
    md += "pass@k over " + summary.value("instances", nlohmann::json(0)).dump() +
          " instances (the model's episodes; infra errors left out):";
    for (const auto& [k, v] : summary["pass_at_k"].items()) {
      char buf[64];
      std::snprintf(buf, sizeof buf, " %s = %.3f", k.c_str(), v.is_number() ? v.get<double>() : 0.0);
      md += buf;
    }
    md += "\n";
    if (auto only = summary.find("infra_error_only_ids"); only != summary.end() && only->is_array() && !only->empty())
      md += "Instances with nothing but infra errors (not in pass@k): " + std::to_string(only->size()) + "\n";
    md += "\n";
  }
  if (!reasons.empty()) {
    md += "## Infrastructure failures (not the model's; `--resume` runs them again)\n\n";
    for (const auto& [who, why] : reasons) md += "- " + who + ": " + why + "\n";
    md += "\n";
  }
  md += "## Outputs\n\n";
  for (const auto& [what, path] : outputs) md += "- " + what + ": " + path + "\n";
  return md;
}

}  // namespace swebox::runner
