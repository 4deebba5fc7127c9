// `swebox trace`: function-level execution traces in CWM's format (docs/traces.md). Each program of
// a JSONL file is called on each of its inputs by the Python tracer (trajectories/python_trace.h)
// inside a sandbox; one JSONL record per (program, input) is appended to the output.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "trajectories/python_trace.h"

namespace swebox::runner {

struct TraceJobOptions {
  std::string programs_path;   // {"id", "code", "entry", "inputs": [...]} per line
  std::string out_path;        // one record per (program, input)
  int jobs = 1;                // sandboxes at once
  int batch = 32;              // (program, input) pairs per sandbox; they share its filesystem
  bool resume = false;         // skip pairs already in out_path
  bool force = false;          // overwrite an existing out_path
  bool dedup = false;          // write no record whose text_hash an earlier record of out_path has
  bool progress = true;        // a status line on stderr when it is a terminal
  // The tracer's limits (trajectories/tracer/swebox_tracer.py, DEFAULTS).
  double timeout_s = 5;
  uint64_t memory_bytes = 512ull << 20;
  int max_events = 10000;
  uint64_t max_bytes = 1ull << 20;
  int max_repr = 1024;
  uint64_t max_stdout = 64ull << 10;
};

// One (program, input) to trace.
struct TracePair {
  std::string id;
  std::string code;
  std::string entry;
  std::string input;
  size_t input_index = 0;
};

// The pairs of a programs file, in order. Throws std::invalid_argument "FILE:LINE: what, and what
// to do" on the first line that is not a program.
std::vector<TracePair> read_trace_programs(const std::string& path);

// The tracer's result line as a Trace (its frames are [event, line, LOCALS, VALUE], the last two as
// Python's json.dumps wrote them). Throws std::runtime_error when a frame is malformed or swebox's
// rendering of it differs from the text Python wrote (a bug: the text would not be CWM's).
traj::Trace trace_from_tracer(const nlohmann::json& result);

// The output record of one pair from the tracer's result line (its JSON, or an error when it
// gave none): status, value, stdout, structured events and the CWM text, checked to parse back.
nlohmann::json trace_record(const TracePair& pair, const nlohmann::json& result);

// FNV-1a, 64 bits, of a trace's text, as 16 hex digits: the key of --dedup (not cryptographic: two
// texts a hostile program chose could collide, which costs one dropped trace).
std::string trace_text_hash(std::string_view text);

// Runs the job; returns the process exit status (0 when every pair has a record).
int run_trace_job(const TraceJobOptions& options);

}  // namespace swebox::runner
