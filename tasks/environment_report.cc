#include "tasks/environment_report.h"

#include <algorithm>
#include <map>
#include <utility>

namespace swebox::tasks {

const char* to_string(EnvironmentReadiness readiness) {
  switch (readiness) {
    case EnvironmentReadiness::ready: return "ready";
    case EnvironmentReadiness::missing_packages: return "missing packages";
    case EnvironmentReadiness::not_supported: return "not supported";
    case EnvironmentReadiness::no_entry: return "no entry";
  }
  return "?";
}

std::vector<InstanceEnvironment> assess_environments(const std::vector<Instance>& instances,
                                                     const EnvironmentTable& table) {
  std::vector<InstanceEnvironment> out;
  for (const Instance& inst : instances) {
    InstanceEnvironment a;
    a.instance_id = inst.instance_id;
    a.repo = inst.repo;
    a.version = inst.version;
    Environment env = table.resolve(inst.repo, inst.version);
    if (!env.known) {
      a.readiness = EnvironmentReadiness::no_entry;
      a.detail = "no entry in " + table.source() + " (the defaults would apply, untried for this repository)";
    } else if (!env.supported) {
      a.readiness = EnvironmentReadiness::not_supported;
      a.detail = env.why;
    } else if (std::string problem = environment_problem(env); !problem.empty()) {
      a.readiness = EnvironmentReadiness::missing_packages;
      a.detail = problem;
      a.missing_packages = missing_packages(env.apt);
    }
    out.push_back(std::move(a));
  }
  return out;
}

std::string environment_report_text(const std::vector<InstanceEnvironment>& assessed, size_t ids_shown) {
  // Groups by repository, version and state, in the order they first appear.
  struct Group {
    const InstanceEnvironment* first;
    std::vector<std::string> ids;
  };
  std::vector<Group> groups;
  std::map<std::pair<std::string, std::string>, size_t> index;  // (repo, version) -> group
  std::map<EnvironmentReadiness, size_t> counts;
  for (const auto& a : assessed) {
    ++counts[a.readiness];
    auto key = std::make_pair(a.repo, a.version);
    auto it = index.find(key);
    if (it == index.end()) {
      index[key] = groups.size();
      groups.push_back({&a, {}});
      it = index.find(key);
    }
    groups[it->second].ids.push_back(a.instance_id);
  }
  auto count = [&](EnvironmentReadiness r) { return std::to_string(counts.count(r) ? counts[r] : 0); };
  std::string text = std::to_string(assessed.size()) + " instance(s): " + count(EnvironmentReadiness::ready) +
                     " ready, " + count(EnvironmentReadiness::missing_packages) + " missing Debian packages, " +
                     count(EnvironmentReadiness::not_supported) + " not supported here, " +
                     count(EnvironmentReadiness::no_entry) + " with no entry\n";
  for (const auto& g : groups) {
    const InstanceEnvironment& a = *g.first;
    std::string state = to_string(a.readiness);
    state.resize(std::max<size_t>(state.size(), 16), ' ');
    std::string line = "  " + state + " " + a.repo + " " + (a.version.empty() ? "(no version)" : a.version) + ", " +
                       std::to_string(g.ids.size()) + (g.ids.size() == 1 ? " instance" : " instances");
    if (!a.detail.empty()) line += ": " + a.detail;
    line += " [";
    for (size_t i = 0; i < g.ids.size() && i < ids_shown; ++i) line += (i ? ", " : "") + g.ids[i];
    if (g.ids.size() > ids_shown) line += " and " + std::to_string(g.ids.size() - ids_shown) + " more";
    text += line + "]\n";
  }
  return text;
}

bool all_ready(const std::vector<InstanceEnvironment>& assessed) {
  for (const auto& a : assessed)
    if (a.readiness != EnvironmentReadiness::ready) return false;
  return true;
}

}  // namespace swebox::tasks
