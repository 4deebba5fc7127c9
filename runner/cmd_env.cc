// `swebox env`: what a suite's tests need on this host (tasks/environments.json), and installing
// the Debian packages that are missing.
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <map>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include "runner/command_line.h"
#include "tasks/environment.h"
#include "tasks/suite.h"

int cmd_env(int argc, char** argv) {
  using namespace swebox::tasks;
  using namespace swebox::runner;
  std::string suite_path, table_path = EnvironmentTable::default_path();
  bool dry_run = false;
  CLI::App app{"", "swebox env"};
  describe_command(app, "What a suite's tests need from Debian (the environment table), and installing it.",
                   {"swebox env check --suite suite.jsonl", "swebox env setup --suite suite.jsonl --dry-run",
                    "swebox env setup --suite suite.jsonl"});
  app.require_subcommand(1);
  CLI::App* check = app.add_subcommand("check", "list what is missing; exit 1 when something is");
  CLI::App* setup = app.add_subcommand("setup", "install with apt-get the Debian packages the suite's repositories need (only those missing)");
  for (CLI::App* sub : {check, setup}) {
    sub->add_option("--suite", suite_path, "instances (JSONL or JSON)")->type_name("FILE")->required();
    sub->add_option("--environments", table_path, "environment table")->type_name("FILE")->capture_default_str();
    add_deprecated_option(*sub, "--table", "--environments", &table_path);
  }
  setup->add_flag("--dry-run", dry_run, "print what it would run");
  if (auto status = parse_command_line(app, argc, argv)) return *status;
  const std::string action = check->parsed() ? "check" : "setup";

  EnvironmentTable table;
  try {
    table = EnvironmentTable::load(table_path);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "swebox env: %s\n", e.what());
    return 2;
  }
  SuiteLoad suite = load_suite(suite_path);
  for (const auto& e : suite.errors) std::fprintf(stderr, "swebox env: skipped: %s\n", e.c_str());
  if (suite.instances.empty()) {
    std::fprintf(stderr, "swebox env: no instances could be read from %s\n", suite_path.c_str());
    return 2;
  }

  // Every package any instance needs, with the repositories that need it.
  std::map<std::string, std::set<std::string>> needed;
  std::set<std::string> unknown, interpreters;
  for (const auto& inst : suite.instances) {
    Environment env = table.resolve(inst.repo, inst.version);
    if (!env.known) unknown.insert(inst.repo + " " + inst.version);
    for (const auto& p : env.apt) needed[p].insert(inst.repo);
    if (!env.interpreter.empty()) interpreters.insert(env.interpreter);
  }
  for (const auto& u : unknown)
    std::fprintf(stderr, "swebox env: no entry in %s for %s; the defaults apply\n", table_path.c_str(), u.c_str());

  std::vector<std::string> all;
  for (const auto& [p, repos] : needed) all.push_back(p);
  std::vector<std::string> missing = missing_packages(all);
  static const std::regex kPackageName("^[a-z0-9][a-z0-9+.-]*$");
  for (const auto& p : missing) {
    if (!std::regex_match(p, kPackageName)) {
      std::fprintf(stderr, "swebox env: '%s' (in %s) is not a Debian package name\n", p.c_str(), table_path.c_str());
      return 2;
    }
  }

  std::printf("%zu instance(s), %zu package(s) needed, %zu missing\n", suite.instances.size(), all.size(),
              missing.size());
  for (const auto& p : missing) {
    std::string repos;
    for (const auto& r : needed[p]) repos += (repos.empty() ? "" : ", ") + r;
    std::printf("  missing: %s (for %s)\n", p.c_str(), repos.c_str());
  }
  for (const auto& interp : interpreters)
    if (access(interp.c_str(), X_OK) != 0) std::printf("  missing interpreter: %s\n", interp.c_str());

  if (action == "check") return missing.empty() ? 0 : 1;
  if (missing.empty()) {
    std::printf("all packages present; nothing to install\n");
    return 0;
  }
  std::string list;
  for (const auto& p : missing) list += " " + p;
  std::string sudo = getuid() == 0 ? "" : "sudo ";
  std::string update = sudo + "apt-get update -qq";
  std::string install = "DEBIAN_FRONTEND=noninteractive " + sudo +
                        "apt-get install -y -qq --no-install-recommends" + list;
  if (dry_run) {
    std::printf("would run:\n  %s\n  %s\n", update.c_str(), install.c_str());
    return 0;
  }
  std::printf("running: %s\n", update.c_str());
  std::fflush(stdout);
  if (std::system(update.c_str()) != 0)
    std::fprintf(stderr, "swebox env: '%s' failed; trying the install with the package lists as they are\n",
                 update.c_str());
  std::printf("running: %s\n", install.c_str());
  std::fflush(stdout);
  int rc = std::system(install.c_str());
  if (rc != 0) {
    std::fprintf(stderr,
                 "swebox env: apt-get install failed (status %d); a package the table names may not exist "
                 "in this Debian release: check with `apt-cache policy PACKAGE` and fix %s\n",
                 rc, table_path.c_str());
    return 1;
  }
  std::printf("installed:%s\n", list.c_str());
  return 0;
}
