#include "runner/run_identity.h"

namespace swebox::runner {

namespace {

std::string short_text(const nlohmann::json& v) {
  if (v.is_null()) return "(none)";
  std::string s = v.is_string() ? v.get<std::string>() : v.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return s.size() > 120 ? s.substr(0, 117) + "..." : s;
}

}  // namespace

std::vector<std::string> identity_differences(const nlohmann::json& recorded, const nlohmann::json& now) {
  std::vector<std::string> out;
  for (const auto& [key, value] : now.items()) {
    nlohmann::json was = recorded.contains(key) ? recorded[key] : nlohmann::json();
    if (was == value) continue;
    // An object (the episode config, sampling) is compared key by key, to name what changed.
    if (was.is_object() && value.is_object()) {
      for (const auto& [k, v] : value.items()) {
        nlohmann::json w = was.contains(k) ? was[k] : nlohmann::json();
        if (w != v) out.push_back(key + "." + k + ": recorded " + short_text(w) + ", now " + short_text(v));
      }
      for (const auto& [k, w] : was.items())
        if (!value.contains(k)) out.push_back(key + "." + k + ": recorded " + short_text(w) + ", now (none)");
      continue;
    }
    out.push_back(key + ": recorded " + short_text(was) + ", now " + short_text(value));
  }
  return out;
}

std::string swebox_version() {
#ifdef SWEBOX_VERSION
  return SWEBOX_VERSION;
#else
  return "unknown";
#endif
}

}  // namespace swebox::runner
