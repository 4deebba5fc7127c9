// `swebox trace`: Python execution traces in CWM's format (runner/trace_job.h, docs/traces.md).
#include <cstdio>
#include <stdexcept>

#include "runner/command_line.h"
#include "runner/trace_job.h"

using swebox::runner::print_error;

int cmd_trace(int argc, char** argv) {
  using namespace swebox::runner;
  TraceJobOptions o;
  CLI::App app{"", "swebox trace"};
  describe_command(app,
                   "Python execution traces in CWM's format: each program of FILE called on each of its inputs under the\n"
                   "tracer, in the sandbox; one JSONL record per (program, input) with the status, the return value or\n"
                   "exception, stdout, the frames and their CWM token text. Input lines: {\"id\", \"code\", \"entry\",\n"
                   "\"inputs\": [\"<text between the call's parentheses>\", ...]}. Exit 0 when every pair has a record,\n"
                   "1 when it could not run, 2 usage.",
                   {"swebox trace --programs cruxeval.jsonl --out traces.jsonl -j 2",
                    "swebox trace --programs cruxeval.jsonl --out traces.jsonl --resume",
                    "swebox trace --programs p.jsonl --out t.jsonl --max-events 2000 --timeout 2"});
  app.add_option("--programs", o.programs_path, "the programs, JSONL")->type_name("FILE")->required()
      ->check(CLI::ExistingFile.description(""));
  app.add_option("--out", o.out_path, "the traces, JSONL (appended to with --resume)")->type_name("FILE")->required();
  app.add_option("-j,--jobs", o.jobs, "sandboxes at once")->capture_default_str()->check(whole_number_at_least(1));
  app.add_option("--batch", o.batch, "pairs per sandbox (they run in separate processes but share its filesystem; 1 = a sandbox each)")
      ->capture_default_str()->check(whole_number_at_least(1));
  app.add_flag("--resume", o.resume, "continue OUT: skip the (program, input) pairs it has");
  app.add_flag("--force", o.force, "overwrite an existing OUT");
  app.add_flag("--dedup", o.dedup, "write no trace whose text (text_hash) OUT already has");
  app.add_option("--timeout", o.timeout_s, "seconds per (program, input)")->capture_default_str()->check(number_above_zero());
  app.add_option("--memory", o.memory_bytes, "bytes of address space per (program, input)")->capture_default_str()
      ->check(whole_number_at_least(64 << 20));
  app.add_option("--max-events", o.max_events, "frames per trace; a longer trace is cut and marked capped")->capture_default_str()
      ->check(whole_number_at_least(1));
  app.add_option("--max-bytes", o.max_bytes, "bytes of CWM text per trace, prompt included; beyond: capped")->capture_default_str()
      ->check(whole_number_at_least(256));
  app.add_option("--max-repr", o.max_repr, "characters of one repr; longer ones are cut and end in \"...\"")->capture_default_str()
      ->check(whole_number_at_least(8));
  app.add_flag("!--no-progress", o.progress, "no status line on a terminal");
  if (auto status = parse_command_line(app, argc, argv)) return *status;
  try {
    return run_trace_job(o);
  } catch (const std::invalid_argument& e) {
    print_error("swebox trace: %s\n", e.what());
    return 1;
  }
}
