#include "tasks/validation.h"

#include <algorithm>
#include <map>

namespace swebox::tasks {

namespace {

const nlohmann::json& group(const nlohmann::json& report, const char* key) {
  static const nlohmann::json empty = nlohmann::json::object();
  if (!report.contains("tests_status") || !report["tests_status"].is_object()) return empty;
  const auto& st = report["tests_status"];
  return st.contains(key) && st[key].is_object() ? st[key] : empty;
}

std::vector<std::string> tests(const nlohmann::json& g, const char* outcome) {
  std::vector<std::string> out;
  if (g.contains(outcome) && g[outcome].is_array())
    for (const auto& t : g[outcome])
      if (t.is_string()) out.push_back(t.get<std::string>());
  return out;
}

std::string counts(const nlohmann::json& report, const char* key) {
  const auto& g = group(report, key);
  size_t ok = tests(g, "success").size(), bad = tests(g, "failure").size();
  return std::to_string(ok) + "/" + std::to_string(ok + bad);
}

// "a, b, c and 4 more"
std::string some(const std::vector<std::string>& names, size_t shown = 3) {
  std::string s;
  for (size_t i = 0; i < names.size() && i < shown; ++i) s += (i ? ", " : "") + names[i];
  if (names.size() > shown) s += " and " + std::to_string(names.size() - shown) + " more";
  return s;
}

std::string str(const nlohmann::json& report, const char* key) {
  return report.contains(key) && report[key].is_string() ? report[key].get<std::string>() : "";
}

bool flag(const nlohmann::json& report, const char* key) {
  return report.contains(key) && report[key].is_boolean() && report[key].get<bool>();
}

// One evaluation in a few words, for the table.
std::string describe(const ValidationRun& run) {
  if (!run.report) return "no report";
  const auto& r = *run.report;
  if (flag(r, "infra_failure")) return "infra failure";
  std::string tail = " (F2P " + counts(r, "FAIL_TO_PASS") + ", P2P " + counts(r, "PASS_TO_PASS") + ")";
  if (flag(r, "resolved")) return "resolved" + tail;
  if (flag(r, "patch_exists") && !flag(r, "patch_successfully_applied")) return "patch apply failed";
  if (flag(r, "ambiguous_failure")) return "ungradeable";
  // An empty patch's report carries no ambiguous_failure (nothing was applied): no test seen at all
  // says the same.
  bool any = false;
  for (const char* key : {"FAIL_TO_PASS", "PASS_TO_PASS", "FAIL_TO_FAIL", "PASS_TO_FAIL"})
    any = any || !tests(group(r, key), "success").empty() || !tests(group(r, key), "failure").empty();
  return any ? "unresolved" + tail : "unresolved (no test results)";
}

}  // namespace

const char* to_string(ValidationVerdict verdict) {
  switch (verdict) {
    case ValidationVerdict::validated: return "validated";
    case ValidationVerdict::environment_not_supported: return "environment not supported";
    case ValidationVerdict::no_environment: return "no environment";
    case ValidationVerdict::environment_not_ready: return "environment not ready";
    case ValidationVerdict::infra_failure: return "infra failure";
    case ValidationVerdict::gold_not_resolved: return "gold not resolved";
    case ValidationVerdict::empty_passes_f2p: return "empty passes F2P";
  }
  return "?";
}

InstanceValidation validation_without_runs(const InstanceEnvironment& environment) {
  InstanceValidation v;
  v.instance_id = environment.instance_id;
  v.repo = environment.repo;
  v.version = environment.version;
  v.gold = v.empty = "not run";
  switch (environment.readiness) {
    case EnvironmentReadiness::not_supported:
      v.verdict = ValidationVerdict::environment_not_supported;
      v.reason = environment.repo + " " + environment.version + " is not supported here: " + environment.detail;
      break;
    case EnvironmentReadiness::no_entry:
      v.verdict = ValidationVerdict::no_environment;
      v.reason = "no environment for " + environment.repo + " " + environment.version + ": " + environment.detail;
      break;
    case EnvironmentReadiness::missing_packages:
    case EnvironmentReadiness::ready:  // not expected here; treated as not ready rather than as validated
      v.verdict = ValidationVerdict::environment_not_ready;
      v.reason = (environment.detail.empty() ? std::string("environment not ready") : environment.detail) +
                 " (`swebox env setup --suite FILE` installs what is missing)";
      break;
  }
  return v;
}

InstanceValidation judge_validation(const Instance& instance, const ValidationRun& gold, const ValidationRun& empty) {
  InstanceValidation v;
  v.instance_id = instance.instance_id;
  v.repo = instance.repo;
  v.version = instance.version;
  v.gold = describe(gold);
  v.empty = describe(empty);
  if (gold.report) v.gold_report = *gold.report;
  if (empty.report) v.empty_report = *empty.report;

  // The evaluations themselves first: without both, nothing can be said about the instance.
  for (auto [name, run] : {std::pair{"gold", &gold}, {"empty", &empty}}) {
    if (!run->report) {
      v.verdict = ValidationVerdict::infra_failure;
      v.reason = std::string(name) + ": no report was written" + (run->error.empty() ? "" : ": " + run->error);
      return v;
    }
    if (flag(*run->report, "infra_failure")) {
      v.verdict = ValidationVerdict::infra_failure;
      v.reason = std::string(name) + ": " + str(*run->report, "infra_failure_reason");
      return v;
    }
  }

  const auto& g = *gold.report;
  std::vector<std::string> reasons;
  if (!flag(g, "resolved")) {
    v.verdict = ValidationVerdict::gold_not_resolved;
    if (!flag(g, "patch_successfully_applied")) {
      reasons.push_back("the gold patch does not apply");
    } else {
      auto f2p = tests(group(g, "FAIL_TO_PASS"), "failure");
      auto p2p = tests(group(g, "PASS_TO_PASS"), "failure");
      std::string why = "with the gold patch";
      if (!f2p.empty()) why += ", FAIL_TO_PASS failed: " + some(f2p);
      if (!p2p.empty()) why += (f2p.empty() ? ", " : "; ") + std::string("PASS_TO_PASS failed: ") + some(p2p);
      if (flag(g, "ambiguous_failure")) why += (f2p.empty() && p2p.empty() ? ", " : "; ") +
                                               std::string("the log could not be graded: ") + str(g, "failure_reason");
      reasons.push_back(why);
    }
  }
  const auto& e = *empty.report;
  auto passing = tests(group(e, "FAIL_TO_PASS"), "success");
  if (!passing.empty() || flag(e, "resolved")) {
    if (v.verdict == ValidationVerdict::validated) v.verdict = ValidationVerdict::empty_passes_f2p;
    size_t total = passing.size() + tests(group(e, "FAIL_TO_PASS"), "failure").size();
    reasons.push_back(passing.empty() ? "the empty patch resolves it (no FAIL_TO_PASS test to fail)"
                                      : "with the empty patch " + std::to_string(passing.size()) + " of " +
                                            std::to_string(total) + " FAIL_TO_PASS pass: " + some(passing));
  }
  for (size_t i = 0; i < reasons.size(); ++i) v.reason += (i ? "; and " : "") + reasons[i];
  return v;
}

nlohmann::json validation_summary(const std::vector<InstanceValidation>& results, const std::string& suite_path,
                                  const std::string& table_path) {
  nlohmann::json counts = nlohmann::json::object();
  for (auto verdict : {ValidationVerdict::validated, ValidationVerdict::environment_not_supported,
                       ValidationVerdict::no_environment, ValidationVerdict::environment_not_ready,
                       ValidationVerdict::infra_failure, ValidationVerdict::gold_not_resolved,
                       ValidationVerdict::empty_passes_f2p})
    counts[to_string(verdict)] = 0;
  nlohmann::json instances = nlohmann::json::array();
  std::vector<std::string> validated_ids;
  for (const auto& v : results) {
    counts[to_string(v.verdict)] = counts[to_string(v.verdict)].get<int>() + 1;
    if (v.verdict == ValidationVerdict::validated) validated_ids.push_back(v.instance_id);
    instances.push_back({{"instance_id", v.instance_id},
                         {"repo", v.repo},
                         {"version", v.version},
                         {"validated", v.verdict == ValidationVerdict::validated},
                         {"verdict", to_string(v.verdict)},
                         {"reason", v.reason},
                         {"gold", v.gold},
                         {"empty", v.empty},
                         {"gold_report", v.gold_report},
                         {"empty_report", v.empty_report}});
  }
  return {{"suite", suite_path},
          {"environments", table_path},
          {"total_instances", results.size()},
          {"validated_instances", validated_ids.size()},
          {"validated_ids", validated_ids},
          {"verdicts", counts},
          {"instances", instances}};
}

std::string validation_table_text(const std::vector<InstanceValidation>& results) {
  size_t id_width = 8;
  for (const auto& v : results) id_width = std::max(id_width, v.instance_id.size());
  auto pad = [](std::string s, size_t w) {
    if (s.size() < w) s.resize(w, ' ');
    return s;
  };
  std::string text = pad("instance", id_width) + "  " + pad("gold", 34) + "  " + pad("empty", 34) + "  verdict\n";
  for (const auto& v : results) {
    text += pad(v.instance_id, id_width) + "  " + pad(v.gold, 34) + "  " + pad(v.empty, 34) + "  " +
            to_string(v.verdict);
    if (!v.reason.empty()) text += ": " + v.reason;
    text += "\n";
  }
  return text;
}

}  // namespace swebox::tasks
