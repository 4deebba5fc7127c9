// What a suite's instances meet on this host, instance by instance: an environment that is ready,
// one waiting for Debian packages (named), a version the table marks as not supported here (and
// why), or no entry in the table at all. `swebox env check` prints it; `swebox validate` leaves out
// what cannot run before spending any evaluation on it.
#pragma once

#include <string>
#include <vector>

#include "tasks/environment.h"
#include "tasks/suite.h"

namespace swebox::tasks {

enum class EnvironmentReadiness {
  ready,             // the table's entry applies and everything it needs is installed
  missing_packages,  // supported, but Debian packages (or the interpreter) are missing
  not_supported,     // the entry says these instances cannot run here
  no_entry,          // the table has no entry for the repository and version
};
// "ready", "missing packages", "not supported", "no entry".
const char* to_string(EnvironmentReadiness readiness);

struct InstanceEnvironment {
  std::string instance_id;
  std::string repo;
  std::string version;
  EnvironmentReadiness readiness = EnvironmentReadiness::ready;
  // missing_packages: what is missing (environment_problem's line); not_supported: the table's why;
  // no_entry: which table has none.
  std::string detail;
  std::vector<std::string> missing_packages;  // missing_packages: the Debian packages, by name
};

// One per instance, in suite order.
std::vector<InstanceEnvironment> assess_environments(const std::vector<Instance>& instances,
                                                     const EnvironmentTable& table);

// The report `swebox env check` prints: a count line, then one line per repository and version in
// suite order ("  not supported  astropy/astropy 5.1, 8 instances: why [ids]"); at most `ids_shown`
// ids a line, then "and N more".
std::string environment_report_text(const std::vector<InstanceEnvironment>& assessed, size_t ids_shown = 6);

// True when every instance is ready.
bool all_ready(const std::vector<InstanceEnvironment>& assessed);

}  // namespace swebox::tasks
