#include "tasks/reports.h"

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <stdexcept>

#include "trajectories/writer.h"

namespace swebox::tasks {

namespace fs = std::filesystem;

std::string model_dir_name(const std::string& model) {
  std::string out;
  for (char c : model) out += c == '/' ? std::string("__") : std::string(1, c);
  // SWE-bench's naming, except where it would name no folder or a parent one (a hostile or broken
  // predictions file must not write outside --out).
  if (out.empty() || out == "." || out == "..") out = "_" + out;
  return out;
}

std::string instance_report_dir(const std::string& out, const std::string& run_id,
                                const std::string& model, const std::string& instance_id) {
  return (fs::path(out) / run_id / model_dir_name(model) / instance_id).string();
}

nlohmann::ordered_json instance_report(const EvalResult& r) {
  nlohmann::ordered_json entry = {
      {"patch_is_None", r.patch_is_none},
      {"patch_exists", r.patch_exists},
      {"patch_successfully_applied", r.patch_applied},
      {"resolved", r.resolved},
      {"infra_failure", r.infra_failure},
  };
  if (r.infra_failure) entry["infra_failure_reason"] = r.infra_failure_reason;
  // A log that could not be graded: unresolved, but not because a test was seen failing.
  if (!r.infra_failure && r.patch_applied && !r.gradeable) {
    entry["ambiguous_failure"] = true;
    entry["failure_reason"] = r.ungradeable_reason;
  }
  nlohmann::ordered_json status = r.tests_status;
  for (const char* key : {"FAIL_TO_PASS", "PASS_TO_PASS", "FAIL_TO_FAIL", "PASS_TO_FAIL"})
    if (!status.contains(key))
      status[key] = {{"success", nlohmann::ordered_json::array()}, {"failure", nlohmann::ordered_json::array()}};
  entry["tests_status"] = status;
  // Beyond SWE-bench's keys: how the verdict was reached and what the judge saw.
  entry["grading"] = to_string(r.grading);
  nlohmann::ordered_json audit = r.audit;
  audit["mode"] = to_string(r.grading);
  entry["audit"] = audit;
  nlohmann::ordered_json report;
  report[r.instance_id] = entry;
  return report;
}

void write_instance_report(const std::string& dir, const EvalResult& r) {
  fs::create_directories(dir);
  auto put = [&](const char* name, const std::string& text) {
    traj::write_file_atomically((fs::path(dir) / name).string(), text);
  };
  put("patch.diff", r.patch);
  put("eval.sh", r.eval_script);
  put("test_output.txt", r.test_output);
  std::string log;
  for (const auto& l : r.log) log += l + "\n";
  put("run_instance.log", log);
  // Reasons and ids can carry bytes from the patch or the test log; invalid UTF-8 is replaced
  // rather than thrown on (type_error 316), so the report is always written.
  put("report.json", instance_report(r).dump(4, ' ', false, nlohmann::ordered_json::error_handler_t::replace) + "\n");
}

std::optional<nlohmann::json> read_instance_report(const std::string& dir, const std::string& instance_id) {
  std::ifstream in(fs::path(dir) / "report.json");
  if (!in) return std::nullopt;
  try {
    nlohmann::json j = nlohmann::json::parse(in);
    if (!j.is_object() || !j.contains(instance_id) || !j[instance_id].is_object()) return std::nullopt;
    return j[instance_id];
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

nlohmann::json swebench_run_report(const SwebenchRunReportInput& in) {
  std::set<std::string> completed, incomplete, empty_patch, submitted, resolved, unresolved, infra,
      ambiguous, error, flagged;
  nlohmann::json reasons = nlohmann::json::object();
  for (const auto& [id, patch] : in.predictions) submitted.insert(id);
  for (const auto& id : in.dataset_ids) {
    auto p = in.predictions.find(id);
    if (p == in.predictions.end()) {
      // No prediction because the infrastructure failed before there was one: an error with its
      // reason, not an instance left out.
      if (auto e = in.errors.find(id); e != in.errors.end()) {
        error.insert(id);
        reasons[id] = e->second;
      } else {
        incomplete.insert(id);
      }
      continue;
    }
    bool empty = !p->second || p->second->empty();
    if (empty) empty_patch.insert(id);
    auto report = read_instance_report(instance_report_dir(in.out_dir, in.run_id, in.model, id), id);
    // SWE-bench never evaluates an empty patch; we do (the tests show the base tree's state), and
    // such a report also counts as completed and unresolved.
    if (empty && !report) continue;
    if (!report) {
      error.insert(id);
      auto e = in.errors.find(id);
      reasons[id] = e != in.errors.end() ? e->second : "no report.json was written";
      continue;
    }
    if (report->contains("audit") && (*report)["audit"].is_object() && (*report)["audit"].value("flagged", false))
      flagged.insert(id);
    if (report->value("infra_failure", false)) {
      infra.insert(id);
      reasons[id] = report->value("infra_failure_reason", std::string("infrastructure failure"));
      continue;
    }
    completed.insert(id);
    if (report->value("resolved", false)) {
      resolved.insert(id);
    } else {
      unresolved.insert(id);
      if (report->value("ambiguous_failure", false)) {
        ambiguous.insert(id);
        reasons[id] = report->value("failure_reason", std::string("log could not be graded"));
      } else if (!report->value("patch_successfully_applied", false)) {
        reasons[id] = "patch apply failed";
      }
    }
  }
  auto list = [](const std::set<std::string>& s) { return nlohmann::json(std::vector<std::string>(s.begin(), s.end())); };
  return {
      {"total_instances", in.dataset_ids.size()},
      {"submitted_instances", submitted.size()},
      {"completed_instances", completed.size()},
      {"resolved_instances", resolved.size()},
      {"unresolved_instances", unresolved.size()},
      {"infra_failure_instances", infra.size()},
      {"ambiguous_failure_instances", ambiguous.size()},
      {"empty_patch_instances", empty_patch.size()},
      {"error_instances", error.size()},
      {"completed_ids", list(completed)},
      {"incomplete_ids", list(incomplete)},
      {"empty_patch_ids", list(empty_patch)},
      {"submitted_ids", list(submitted)},
      {"resolved_ids", list(resolved)},
      {"unresolved_ids", list(unresolved)},
      {"infra_failure_ids", list(infra)},
      {"ambiguous_failure_ids", list(ambiguous)},
      {"error_ids", list(error)},
      {"failure_reasons", reasons},
      {"schema_version", 2},
      {"grading", in.grading},
      {"flagged_instances", flagged.size()},
      {"flagged_ids", list(flagged)},
  };
}

std::string write_swebench_run_report(const SwebenchRunReportInput& in, const nlohmann::json& summary) {
  fs::create_directories(in.out_dir);
  std::string path = (fs::path(in.out_dir) / (model_dir_name(in.model) + "." + in.run_id + ".json")).string();
  traj::write_file_atomically(path, summary.dump(4, ' ', false, nlohmann::json::error_handler_t::replace) + "\n");
  return path;
}

}  // namespace swebox::tasks
