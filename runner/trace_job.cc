#include "runner/trace_job.h"

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <sstream>
#include <stdexcept>
#include <thread>

#include <boost/asio/io_context.hpp>

#include "sandbox/sandbox.h"
#include "trajectories/python_trace.h"
#include "trajectories/writer.h"

namespace swebox::runner {
namespace {

using nlohmann::json;
namespace sb = swebox::sandbox;
using Clock = std::chrono::steady_clock;

std::string pair_key(const std::string& id, size_t input_index) { return id + '\n' + std::to_string(input_index); }

// The lines of the tracer's normalised program ("\n"-terminated each).
std::vector<std::string_view> program_lines(std::string_view program) {
  std::vector<std::string_view> lines;
  for (size_t start = 0; start < program.size();) {
    size_t end = program.find('\n', start);
    size_t stop = end == std::string_view::npos ? program.size() : end + 1;
    lines.push_back(program.substr(start, stop - start));
    start = stop;
  }
  return lines;
}

bool trace_has_token_text(const traj::Trace& t) {
  if (traj::contains_trace_token(t.context)) return true;
  for (const auto& f : t.frames) {
    if (traj::contains_trace_token(f.value)) return true;
    for (const auto& [name, value] : f.locals)
      if (traj::contains_trace_token(name) || traj::contains_trace_token(value)) return true;
  }
  return false;
}

json events_json(const traj::Trace& t) {
  json events = json::array();
  for (const auto& f : t.frames) {
    json e = {{"event", traj::to_string(f.event)}, {"line", f.line}, {"source", f.source}};
    if (f.event == traj::TraceEvent::call || f.event == traj::TraceEvent::line) {
      json locals = json::array();
      for (const auto& [name, value] : f.locals) locals.push_back({name, value});
      e["locals"] = std::move(locals);
    } else {
      e["value"] = f.value;
    }
    events.push_back(std::move(e));
  }
  return events;
}

}  // namespace

traj::Trace trace_from_tracer(const json& result) {
  traj::Trace trace;
  std::string program = result.at("program").get<std::string>();
  trace.context = traj::mark_trace_entry(program, result.at("entry_line").get<int>());
  trace.complete = result.value("complete", false);
  std::vector<std::string_view> lines = program_lines(program);
  size_t n = 0;
  for (const json& f : result.at("frames")) {
    ++n;
    auto bad = [&](const std::string& why) { return std::runtime_error("tracer frame " + std::to_string(n) + ": " + why); };
    if (!f.is_array() || (f.size() != 4 && f.size() != 5) || !f[0].is_string() || !f[1].is_number_integer()) throw bad("not [event, line, locals, value]");
    traj::TraceFrame frame;
    auto event = traj::trace_event_named(f[0].get<std::string>());
    if (!event) throw bad("unknown event " + f[0].dump());
    frame.event = *event;
    frame.line = f[1].get<int>();
    frame.source = frame.line >= 1 && static_cast<size_t>(frame.line) <= lines.size() ? std::string(lines[frame.line - 1]) : "\n";
    if (f[2].is_string()) {
      const std::string& text = f[2].get_ref<const std::string&>();
      nlohmann::ordered_json locals = nlohmann::ordered_json::parse(text, nullptr, false);
      if (locals.is_discarded() || !locals.is_object()) throw bad("LOCALS is not a JSON object");
      for (auto& [name, value] : locals.items()) {
        if (!value.is_string()) throw bad("a LOCALS value is not a string");
        frame.locals.emplace_back(name, value.get<std::string>());
      }
      if (traj::python_json_locals(frame.locals) != text)
        throw bad("swebox's rendering of LOCALS differs from Python's json.dumps: " + text.substr(0, 200));
    }
    if (f[3].is_string()) {
      const std::string& text = f[3].get_ref<const std::string&>();
      json value = json::parse(text, nullptr, false);
      if (value.is_discarded() || !value.is_string()) throw bad("VALUE is not a JSON string");
      frame.value = value.get<std::string>();
      if (traj::python_json_string(frame.value) != text)
        throw bad("swebox's rendering of VALUE differs from Python's json.dumps: " + text.substr(0, 200));
    }
    trace.frames.push_back(std::move(frame));
  }
  return trace;
}

std::string trace_text_hash(std::string_view text) {
  uint64_t h = 14695981039346656037ull;
  for (unsigned char c : text) {
    h ^= c;
    h *= 1099511628211ull;
  }
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(h));
  return hex;
}

std::vector<TracePair> read_trace_programs(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::invalid_argument("cannot read " + path + ": check the path of --programs");
  std::vector<TracePair> pairs;
  std::map<std::string, size_t> id_line;
  std::string line;
  for (size_t number = 1; std::getline(in, line); ++number) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    std::string where = path + ":" + std::to_string(number) + ": ";
    json j = json::parse(line, nullptr, false);
    if (j.is_discarded() || !j.is_object())
      throw std::invalid_argument(where + "not a JSON object; each line is {\"id\", \"code\", \"entry\", \"inputs\": [...]}");
    std::string id;
    if (j.contains("id") && j["id"].is_string()) id = j["id"].get<std::string>();
    else if (j.contains("id") && j["id"].is_number_integer()) id = j["id"].dump();
    else throw std::invalid_argument(where + "\"id\" must be a string or an integer");
    auto [it, fresh] = id_line.emplace(id, number);
    if (!fresh) throw std::invalid_argument(where + "id " + json(id).dump() + " repeats line " + std::to_string(it->second) + "; ids must be unique");
    if (!j.contains("code") || !j["code"].is_string()) throw std::invalid_argument(where + "\"code\" must be the program's source, a string");
    if (!j.contains("entry") || !j["entry"].is_string() || j["entry"].get<std::string>().empty())
      throw std::invalid_argument(where + "\"entry\" must name the function to call");
    if (!j.contains("inputs") || !j["inputs"].is_array() || j["inputs"].empty())
      throw std::invalid_argument(where + "\"inputs\" must be a non-empty list of strings, each the text between the call's parentheses (e.g. \"[3, 1, 2], key=abs\")");
    size_t k = 0;
    for (const json& input : j["inputs"]) {
      if (!input.is_string()) throw std::invalid_argument(where + "\"inputs\"[" + std::to_string(k) + "] must be a string (the text between the call's parentheses)");
      pairs.push_back({id, j["code"].get<std::string>(), j["entry"].get<std::string>(), input.get<std::string>(), k++});
    }
  }
  return pairs;
}

json trace_record(const TracePair& pair, const json& result) {
  json rec;
  rec["id"] = pair.id;
  rec["input_index"] = pair.input_index;
  rec["input"] = pair.input;
  rec["entry"] = pair.entry;
  std::string status = result.value("status", "error");
  for (const char* key : {"return_repr", "exception", "error", "capped"})
    if (result.contains(key)) rec[key] = result[key];
  rec["stdout"] = result.value("stdout", "");
  rec["stdout_truncated"] = result.value("stdout_truncated", false);
  if (result.contains("frames") && result.contains("program") && result.contains("entry_line")) {
    try {
      traj::Trace trace = trace_from_tracer(result);
      std::string text = traj::render_trace(trace);
      if (trace_has_token_text(trace)) {
        // CWM's special tokens are ids; written as text inside the program or a value they cannot
        // be told apart from the separators, so this text does not parse back (the events are exact).
        rec["text_ambiguous"] = true;
      } else {
        std::string why;
        std::optional<traj::Trace> back = traj::parse_trace(text, &why);
        bool same = back && back->complete == trace.complete && back->context == trace.context &&
                    back->frames.size() == trace.frames.size();
        for (size_t i = 0; same && i < trace.frames.size(); ++i) same = traj::same_frame(back->frames[i], trace.frames[i]);
        if (!same) throw std::runtime_error("the rendered text does not parse back to the same frames" + (why.empty() ? "" : ": " + why));
      }
      rec["complete"] = trace.complete;
      rec["events_count"] = trace.frames.size();
      rec["events"] = events_json(trace);
      rec["text_hash"] = trace_text_hash(text);
      rec["text"] = std::move(text);
    } catch (const std::exception& e) {
      status = "error";
      rec["error"] = std::string("internal: ") + e.what();
    }
  }
  rec["status"] = status;
  rec["timing"] = {{"wall_s", result.value("wall_s", 0.0)}, {"run_s", result.value("run_s", 0.0)},
                   {"cpu_s", result.value("cpu_s", 0.0)}};
  return rec;
}

namespace {

class TraceRun {
 public:
  TraceRun(const TraceJobOptions& o, std::vector<TracePair> pairs, traj::JsonlAppender& out, std::set<std::string> hashes)
      : o_(o), pairs_(std::move(pairs)), out_(out), hashes_(std::move(hashes)) {
    settings_ = {{"max_events", o.max_events}, {"max_bytes", o.max_bytes},   {"max_repr", o.max_repr},
                 {"timeout_s", o.timeout_s},   {"memory_bytes", o.memory_bytes}, {"max_stdout", o.max_stdout}};
    for (size_t i = 0; i < pairs_.size(); i += o.batch) batches_.push_back({i, std::min(pairs_.size(), i + o.batch)});
    terminal_ = o.progress && isatty(2);
  }

  void run() {
    started_ = Clock::now();
    std::vector<std::thread> workers;
    int n = std::max(1, std::min<int>(o_.jobs, static_cast<int>(batches_.size())));
    for (int w = 0; w < n; ++w) workers.emplace_back([this] { work(); });
    for (auto& t : workers) t.join();
    if (terminal_) std::fprintf(stderr, "\r\033[K");
  }

  std::map<std::string, size_t> counts() const { return counts_; }
  size_t duplicates() const { return duplicates_; }
  double seconds() const { return std::chrono::duration<double>(Clock::now() - started_).count(); }

 private:
  void work() {
    boost::asio::io_context io;
    for (;;) {
      size_t b = next_.fetch_add(1);
      if (b >= batches_.size()) return;
      auto [begin, end] = batches_[b];
      std::vector<json> results = run_in_sandbox(io, begin, end);
      for (size_t i = begin; i < end; ++i) {
        json& r = results[i - begin];
        // A pair without a result (the batch's server died or the sandbox failed) runs again alone.
        if (r.is_null() && end - begin > 1) r = run_in_sandbox(io, i, i + 1)[0];
        if (r.is_null()) r = {{"status", "error"}, {"error", last_error_for(i)}};
        record(trace_record(pairs_[i], r));
      }
    }
  }

  std::string last_error_for(size_t i) {
    std::lock_guard lock(mu_);
    auto it = errors_.find(i);
    return it == errors_.end() ? "no result from the tracer" : it->second;
  }

  std::vector<json> run_in_sandbox(boost::asio::io_context& io, size_t begin, size_t end) {
    size_t n = end - begin;
    std::vector<json> results(n);
    sb::Config config;
    config.network = sb::Network::none;
    config.env.push_back({"PYTHONHASHSEED", "0"});
    config.limits.memory_bytes = o_.memory_bytes + (512ull << 20);
    config.limits.pids = 256;
    config.limits.cpus = 1;
    config.limits.output_bytes = n * (4 * o_.max_bytes + 8 * o_.max_stdout + (256u << 10));
    sb::ExecRequest request;
    request.argv = {"python3", "-c", std::string(traj::python_tracer_source()), "serve"};
    request.cwd = "/tmp";
    request.timeout_s = static_cast<double>(n) * (o_.timeout_s + 3) + 10;
    std::string input = settings_.dump() + "\n";
    for (size_t i = begin; i < end; ++i)
      input += json{{"code", pairs_[i].code}, {"entry", pairs_[i].entry}, {"input", pairs_[i].input}}.dump(
                   -1, ' ', false, json::error_handler_t::replace) + "\n";
    request.stdin_data = std::move(input);
    sb::ExecResult r;
    try {
      std::unique_ptr<sb::Sandbox> box = sb::make_sandbox(io, config);
      r = box->exec(std::move(request));
      box->destroy();
    } catch (const std::exception& e) {
      r.reason = sb::StopReason::error;
      r.detail = std::string("cannot create the sandbox: ") + e.what();
    }
    std::istringstream lines(r.out);
    std::string line;
    for (size_t k = 0; k < n && std::getline(lines, line);) {
      if (lines.eof()) break;  // a line cut short by the output cap
      json j = json::parse(line, nullptr, false);
      // Each line names its job: a line out of order (which only a forged write could make) ends
      // the batch's results here; the rest run again alone.
      if (!j.is_object() || !j.contains("job") || j["job"] != k) break;
      results[k++] = std::move(j);
    }
    std::string why = "the tracer gave no result (" + std::string(sb::to_string(r.reason)) +
                      (r.detail.empty() ? "" : ": " + r.detail) + (r.err.empty() ? "" : "; stderr: " + r.err.substr(0, 500)) + ")";
    std::lock_guard lock(mu_);
    for (size_t k = 0; k < n; ++k)
      if (results[k].is_null()) errors_[begin + k] = why;
    return results;
  }

  void record(const json& rec) {
    if (o_.dedup && rec.contains("text_hash")) {
      std::lock_guard lock(mu_);
      if (!hashes_.insert(rec["text_hash"].get<std::string>()).second) {
        ++duplicates_;
        ++done_;
        return;
      }
    }
    out_.append(rec);
    std::lock_guard lock(mu_);
    ++counts_[rec.value("status", "error")];
    ++done_;
    if (terminal_ && Clock::now() - last_print_ > std::chrono::milliseconds(250)) {
      last_print_ = Clock::now();
      std::fprintf(stderr, "\r\033[Kswebox trace: %zu/%zu  ok %zu  exception %zu  timeout %zu  capped %zu  error %zu  %.0f/s",
                   done_, pairs_.size(), counts_["ok"], counts_["exception"], counts_["timeout"], counts_["capped"],
                   counts_["error"], done_ / std::max(1e-9, seconds()));
    }
  }

  const TraceJobOptions& o_;
  std::vector<TracePair> pairs_;
  traj::JsonlAppender& out_;
  json settings_;
  std::vector<std::pair<size_t, size_t>> batches_;
  std::atomic<size_t> next_{0};
  std::mutex mu_;
  std::map<size_t, std::string> errors_;
  std::map<std::string, size_t> counts_;
  size_t done_ = 0;
  std::set<std::string> hashes_;   // --dedup: the text hashes written
  size_t duplicates_ = 0;
  bool terminal_ = false;
  Clock::time_point started_, last_print_;
};

}  // namespace

int run_trace_job(const TraceJobOptions& o) {
  namespace fs = std::filesystem;
  std::vector<TracePair> pairs = read_trace_programs(o.programs_path);
  std::error_code ec;
  bool exists = fs::exists(o.out_path, ec) && fs::file_size(o.out_path, ec) > 0;
  if (exists && !o.resume && !o.force)
    throw std::invalid_argument(o.out_path + " exists: pass --resume to continue it or --force to start it again");
  if (exists && o.force && !o.resume) fs::remove(o.out_path);
  size_t total = pairs.size(), skipped = 0;
  std::set<std::string> hashes;
  if (o.resume && exists) {
    std::set<std::string> done;
    for (const json& r : traj::read_jsonl(o.out_path)) {
      if (r.is_object() && r.contains("id") && r.contains("input_index"))
        done.insert(pair_key(r["id"].get<std::string>(), r["input_index"].get<size_t>()));
      if (r.is_object() && r.contains("text_hash") && r["text_hash"].is_string()) hashes.insert(r["text_hash"].get<std::string>());
    }
    std::vector<TracePair> left;
    for (TracePair& p : pairs)
      if (!done.count(pair_key(p.id, p.input_index))) left.push_back(std::move(p));
    skipped = total - left.size();
    pairs = std::move(left);
  }
  sb::start_native_backend();
  traj::JsonlAppender out(o.out_path, /*sync=*/false);
  TraceRun run(o, std::move(pairs), out, std::move(hashes));
  run.run();
  auto counts = run.counts();
  size_t recorded = 0;
  for (const auto& [status, n] : counts) recorded += n;
  std::fprintf(stderr,
               "swebox trace: %zu records (ok %zu, exception %zu, timeout %zu, capped %zu, error %zu)%s in %.2f s, %.1f traces/s%s -> %s\n",
               recorded, counts["ok"], counts["exception"], counts["timeout"], counts["capped"], counts["error"],
               o.dedup ? (", " + std::to_string(run.duplicates()) + " duplicate traces not written").c_str() : "", run.seconds(),
               (recorded + run.duplicates()) / std::max(1e-9, run.seconds()),
               skipped ? (", " + std::to_string(skipped) + " already there skipped").c_str() : "", o.out_path.c_str());
  return 0;
}

}  // namespace swebox::runner
