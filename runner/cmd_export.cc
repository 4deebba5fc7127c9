// swebox export: a trajectories file in another tool's format (trajectories/export.h).
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include "runner/command_line.h"
#include "trajectories/export.h"
#include "trajectories/writer.h"

using swebox::runner::print_error;

namespace {

// Whether the file's last byte is not a newline: a record being written, or torn by a crash
// (read_trajectories skips such a line).
bool ends_in_a_partial_line(const std::string& path) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in || in.tellg() <= 0) return false;
  in.seekg(-1, std::ios::end);
  return in.get() != '\n';
}

}  // namespace

int cmd_export(int argc, char** argv) {
  using namespace swebox::runner;
  namespace fs = std::filesystem;
  std::string format, in, out;
  bool resolved_only = false, all_samples = false, force = false;
  CLI::App app{"", "swebox export"};
  describe_command(app,
                   "A trajectories file in another tool's format: SWE-bench predictions JSONL, OpenAI chat-messages\n"
                   "JSONL (SFT), mini-swe-agent <instance_id>.traj.json files (OUT is a directory), CWM rollout dumps.",
                   {"swebox export --format predictions runs/qwen/trajectories.jsonl preds.jsonl",
                    "swebox export --format chat --resolved-only runs/qwen/trajectories.jsonl sft.jsonl",
                    "swebox export --format mini runs/qwen/trajectories.jsonl mini-trajs/ --force"});
  app.add_option("--format", format, "predictions | chat | mini | cwm")
      ->type_name("FORMAT")
      ->check(CLI::IsMember({"predictions", "chat", "mini", "cwm"}).description(""))
      ->required();
  app.add_option("TRAJECTORIES", in, "the run's trajectories.jsonl")
      ->type_name("FILE")
      ->check(CLI::ExistingFile.description(""))
      ->required();
  app.add_option("OUT", out, "the file (a directory for mini) to write")->type_name("PATH")->required();
  app.add_flag("--resolved-only", resolved_only, "chat: only resolved episodes");
  app.add_flag("--all-samples", all_samples, "predictions: every episode, with a \"sample\" field (default: one per instance)");
  app.add_flag("--force", force, "overwrite an existing OUT (without it, an existing OUT is an error)");
  if (auto status = parse_command_line(app, argc, argv)) return *status;

  if (fs::exists(out) && !force) {
    print_error("swebox export: %s exists; pass --force to overwrite it\n", out.c_str());
    return 1;
  }
  if (ends_in_a_partial_line(in))
    print_error("swebox export: %s: the last line is incomplete (torn, or still being written); skipped\n", in.c_str());
  auto episodes = swebox::traj::read_trajectories(in);
  size_t n = 0;
  if (format == "predictions") n = swebox::traj::write_predictions(episodes, out, all_samples);
  else if (format == "chat") n = swebox::traj::write_chat_messages(episodes, out, resolved_only);
  else if (format == "mini") n = swebox::traj::write_mini_swe_agent(episodes, out);
  else n = swebox::traj::write_cwm_dump(episodes, out);
  print_error("swebox export: %zu records -> %s\n", n, out.c_str());
  return 0;
}
