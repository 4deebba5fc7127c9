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
#include "tasks/environment_report.h"
#include "tasks/suite.h"

using swebox::runner::print_error;

int cmd_env(int argc, char** argv) {
  using namespace swebox::tasks;
  using namespace swebox::runner;
  std::string suite_path, instance_ids, table_path = EnvironmentTable::default_path();
  bool dry_run = false;
  CLI::App app{"", "swebox env"};
  describe_command(app, "What a suite's tests need from Debian (the environment table), and installing it.",
                   {"swebox env check --suite suite.jsonl", "swebox env check --suite suite.jsonl --instances sympy__sympy-24661",
                    "swebox env setup --suite suite.jsonl --dry-run",
                    "swebox env setup --suite suite.jsonl"});
  app.require_subcommand(1);
  CLI::App* check = app.add_subcommand(
      "check", "say per repository and version what will run: ready, missing Debian packages (named), not supported "
               "here (and why), or no entry in the table; exit 0 when every selected instance can run, 1 otherwise");
  CLI::App* setup = app.add_subcommand("setup", "install with apt-get the Debian packages the suite's repositories need (only those missing, only for versions the table supports)");
  for (CLI::App* sub : {check, setup}) {
    sub->add_option("--suite", suite_path, "instances (JSONL or JSON)")->type_name("FILE")->required();
    sub->add_option("--instances", instance_ids, "only these ids (comma/space separated, or @FILE)")->type_name("IDS");
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
    print_error("swebox env: %s\n", e.what());
    return 2;
  }
  SuiteLoad suite = load_suite(suite_path);
  for (const auto& e : suite.errors) print_error("swebox env: skipped: %s\n", e.c_str());
  if (suite.instances.empty()) {
    print_error("swebox env: no instances could be read from %s\n", suite_path.c_str());
    return 2;
  }

  std::vector<Instance> instances = suite.instances;
  if (!instance_ids.empty()) {
    std::vector<std::string> unknown_ids;
    instances = filter_instances(instances, parse_instance_ids(instance_ids), &unknown_ids);
    for (const auto& id : unknown_ids)
      print_error("swebox env: unknown instance %s (not in %s)\n", id.c_str(), suite_path.c_str());
    if (!unknown_ids.empty()) return 2;
  }

  // Every package an instance that can run here needs, with the repositories that need it.
  std::map<std::string, std::set<std::string>> needed;
  std::set<std::string> interpreters;
  for (const auto& inst : instances) {
    Environment env = table.resolve(inst.repo, inst.version);
    if (!env.supported) continue;
    for (const auto& p : env.apt) needed[p].insert(inst.repo);
    if (!env.interpreter.empty()) interpreters.insert(env.interpreter);
  }

  std::vector<std::string> all;
  for (const auto& [p, repos] : needed) all.push_back(p);
  std::vector<std::string> missing = missing_packages(all);
  static const std::regex kPackageName("^[a-z0-9][a-z0-9+.-]*$");
  for (const auto& p : missing) {
    if (!std::regex_match(p, kPackageName)) {
      print_error("swebox env: '%s' (in %s) is not a Debian package name\n", p.c_str(), table_path.c_str());
      return 2;
    }
  }

  std::printf("Debian packages: %zu needed by the instances the table supports, %zu missing\n", all.size(),
              missing.size());
  for (const auto& p : missing) {
    std::string repos;
    for (const auto& r : needed[p]) repos += (repos.empty() ? "" : ", ") + r;
    std::printf("  missing: %s (for %s)\n", p.c_str(), repos.c_str());
  }
  for (const auto& interp : interpreters)
    if (access(interp.c_str(), X_OK) != 0) std::printf("  missing interpreter: %s\n", interp.c_str());

  if (action == "check") {
    std::vector<InstanceEnvironment> assessed = assess_environments(instances, table);
    std::printf("%s", environment_report_text(assessed).c_str());
    return all_ready(assessed) ? 0 : 1;
  }
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
    print_error("swebox env: '%s' failed; trying the install with the package lists as they are\n",
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
