// swebox: one executable, one subcommand per runner/cmd_<name>.cc.
#include <cstdio>
#include <string>

#include "runner/command_line.h"
#include "runner/version.h"
#include "sandbox/text_encoding.h"

#define SWEBOX_COMMAND(name) int cmd_##name(int argc, char** argv);
#include "commands.inc"
#undef SWEBOX_COMMAND

namespace {
struct Command {
  const char* name;
  int (*run)(int, char**);
};

constexpr Command kCommands[] = {
#define SWEBOX_COMMAND(name) {#name, cmd_##name},
#include "commands.inc"
#undef SWEBOX_COMMAND
};
}  // namespace

int main(int argc, char** argv) {
  std::string names;
  for (const Command& c : kCommands) names += std::string(names.empty() ? "" : ", ") + c.name;
  CLI::App app{"", "swebox"};
  swebox::runner::describe_command(
      app,
      "A sandboxed agentic-coding runner for SWE-bench-style suites. Commands: " + names +
          ".\n'swebox COMMAND --help' describes one.",
      {"swebox run --suite suite.jsonl --policy oracle --repos /work/repos --out runs/oracle",
       "swebox eval --suite suite.jsonl --predictions gold --repos /work/repos --out evals",
       "swebox sandbox exec -- sh -c 'id'"});
  app.set_version_flag("--version", swebox::version());
  app.prefix_command();  // the command's name and everything after it are the command's
  if (auto status = swebox::runner::parse_command_line(app, argc, argv)) return *status;
  std::vector<std::string> rest = app.remaining();
  if (rest.empty()) {
    std::fprintf(stderr, "swebox: a command is required: %s\n(see 'swebox --help')\n", names.c_str());
    return 2;
  }
  if (rest[0] == "help") {  // `swebox help`, as before CLI11
    std::fputs(app.help().c_str(), stdout);
    return 0;
  }
  const int at = argc - static_cast<int>(rest.size());
  for (const Command& c : kCommands) {
    if (rest[0] != c.name) continue;
    // No abort on any input: whatever a command throws is reported (invalid UTF-8 replaced) with status 1.
    try {
      return c.run(argc - at, argv + at);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "swebox %s: %s\n", c.name, swebox::sandbox::to_valid_utf8(e.what()).c_str());
      return 1;
    }
  }
  std::fprintf(stderr, "swebox: unknown command '%s'; the commands are %s\n(see 'swebox --help')\n",
               swebox::sandbox::to_valid_utf8(rest[0]).c_str(), names.c_str());
  return 2;
}
