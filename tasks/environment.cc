#include "tasks/environment.h"

#include <fnmatch.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <set>
#include <sstream>
#include <stdexcept>

namespace swebox::tasks {

namespace {

std::vector<std::string> string_list(const nlohmann::json& v, const std::string& what) {
  if (!v.is_array()) throw std::runtime_error(what + " must be a list of strings");
  std::vector<std::string> out;
  for (const auto& s : v) {
    if (!s.is_string()) throw std::runtime_error(what + " must be a list of strings");
    out.push_back(s.get<std::string>());
  }
  return out;
}

std::string replace_all(std::string s, const std::string& from, const std::string& to) {
  for (size_t at = s.find(from); at != std::string::npos; at = s.find(from, at + to.size()))
    s.replace(at, from.size(), to);
  return s;
}

// Layers one table object (defaults or an entry) onto `env`. "env" merges key by key; everything
// else replaces.
void apply_layer(Environment& env, const nlohmann::json& layer, const std::string& where) {
  auto str = [&](const char* key, std::string& into) {
    if (!layer.contains(key)) return;
    if (!layer[key].is_string()) throw std::runtime_error(where + "." + key + " must be a string");
    into = layer[key].get<std::string>();
  };
  str("interpreter", env.interpreter);
  str("path", env.path);
  str("test_cmd", env.test_cmd);
  str("directives", env.directives);
  str("log_parser", env.log_parser);
  str("why", env.why);
  str("network", env.network);
  if (env.network != "none" && env.network != "loopback")
    throw std::runtime_error(where + ".network must be \"none\" or \"loopback\", not \"" + env.network + "\"");
  if (layer.contains("note") && !layer["note"].is_string())
    throw std::runtime_error(where + ".note must be a string");
  if (layer.contains("supported")) {
    if (!layer["supported"].is_boolean()) throw std::runtime_error(where + ".supported must be true or false");
    env.supported = layer["supported"].get<bool>();
  }
  if (layer.contains("apt")) env.apt = string_list(layer["apt"], where + ".apt");
  if (layer.contains("setup")) env.setup = string_list(layer["setup"], where + ".setup");
  if (layer.contains("exclude_extensions"))
    env.exclude_extensions = string_list(layer["exclude_extensions"], where + ".exclude_extensions");
  if (layer.contains("test_infra")) env.test_infra = string_list(layer["test_infra"], where + ".test_infra");
  if (layer.contains("env")) {
    if (!layer["env"].is_object()) throw std::runtime_error(where + ".env must be an object");
    for (const auto& [k, v] : layer["env"].items()) {
      if (!v.is_string()) throw std::runtime_error(where + ".env." + k + " must be a string");
      bool replaced = false;
      for (auto& kv : env.env)
        if (kv.first == k) kv.second = v.get<std::string>(), replaced = true;
      if (!replaced) env.env.emplace_back(k, v.get<std::string>());
    }
  }
  if (layer.contains("files")) {
    if (!layer["files"].is_object()) throw std::runtime_error(where + ".files must be an object");
    env.files.clear();
    for (const auto& [k, v] : layer["files"].items()) {
      if (!v.is_string()) throw std::runtime_error(where + ".files." + k + " must be a string");
      env.files.emplace_back(k, v.get<std::string>());
    }
  }
}

bool version_matches(const nlohmann::json& patterns, const std::string& version) {
  for (const auto& p : patterns)
    if (fnmatch(p.get<std::string>().c_str(), version.c_str(), 0) == 0) return true;
  return false;
}

}  // namespace

EnvironmentTable EnvironmentTable::parse(const nlohmann::json& table, const std::string& source) {
  if (!table.is_object() || !table.contains("repos") || !table["repos"].is_object())
    throw std::runtime_error(source + ": an environment table is an object with a 'repos' object");
  // Check every entry now, so a typo is reported at load time rather than by the instance that hits it.
  Environment probe;
  if (table.contains("defaults")) apply_layer(probe, table["defaults"], source + ": defaults");
  for (const auto& [repo, entries] : table["repos"].items()) {
    if (!entries.is_array())
      throw std::runtime_error(source + ": repos." + repo + " must be a list of entries");
    for (size_t i = 0; i < entries.size(); ++i) {
      std::string where = source + ": repos." + repo + "[" + std::to_string(i) + "]";
      const auto& e = entries[i];
      if (!e.is_object() || !e.contains("versions"))
        throw std::runtime_error(where + " needs 'versions' (a list of version globs, e.g. [\"*\"])");
      string_list(e["versions"], where + ".versions");
      Environment scratch = probe;
      apply_layer(scratch, e, where);
      if (!scratch.supported && scratch.why.empty())
        throw std::runtime_error(where + " says \"supported\": false: it needs a 'why' saying what stops it here");
    }
  }
  EnvironmentTable t;
  t.table_ = table;
  t.source_ = source;
  return t;
}

EnvironmentTable EnvironmentTable::load(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot read the environment table " + path);
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(in);
  } catch (const std::exception& e) {
    throw std::runtime_error("environment table " + path + " is not valid JSON: " + e.what());
  }
  return parse(j, path);
}

std::string EnvironmentTable::default_path() {
  if (const char* p = std::getenv("SWEBOX_ENVIRONMENTS"); p && *p) return p;
  return std::string(SWEBOX_SOURCE_DIR) + "/tasks/environments.json";
}

Environment EnvironmentTable::resolve(const std::string& repo, const std::string& version) const {
  Environment env;
  env.repo = repo;
  env.version = version;
  env.interpreter = "/usr/bin/python3";
  env.path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
  env.test_cmd = "pytest -rA";
  env.directives = "paths";
  env.log_parser = "parse_log_pytest";
  if (table_.contains("defaults")) apply_layer(env, table_["defaults"], source_ + ": defaults");
  const auto& repos = table_["repos"];
  if (auto it = repos.find(repo); it != repos.end()) {
    for (size_t i = 0; i < it->size(); ++i) {
      const auto& e = (*it)[i];
      if (!version_matches(e["versions"], version)) continue;
      apply_layer(env, e, source_ + ": repos." + repo + "[" + std::to_string(i) + "]");
      env.known = true;
      break;
    }
  }
  for (auto& [path, content] : env.files) content = replace_all(content, "{version}", version);
  for (auto& line : env.setup) line = replace_all(line, "{version}", version);
  return env;
}

namespace {

bool in_system_allowlist(const std::string& p) {
  for (const char* top : {"/usr", "/bin", "/sbin", "/etc"})
    if (p == top || p.rfind(std::string(top) + "/", 0) == 0) return true;
  return p.rfind("/lib", 0) == 0;
}

}  // namespace

std::vector<std::string> system_paths(const Environment& env) {
  namespace fs = std::filesystem;
  std::vector<std::string> dirs;
  std::stringstream path(env.path);
  for (std::string entry; std::getline(path, entry, ':');)
    if (!entry.empty() && entry[0] == '/') dirs.push_back(entry);
  if (!env.interpreter.empty() && env.interpreter[0] == '/') {
    dirs.push_back(fs::path(env.interpreter).parent_path().string());
    std::error_code ec;
    fs::path real = fs::canonical(env.interpreter, ec);
    if (!ec) dirs.push_back(real.parent_path().string());
  }
  std::vector<std::string> out;
  for (std::string d : dirs) {
    d = fs::path(d).lexically_normal().string();
    while (d.size() > 1 && d.back() == '/') d.pop_back();
    if (d == "/" || in_system_allowlist(d)) continue;
    std::string leaf = fs::path(d).filename().string();
    if (leaf == "bin" || leaf == "sbin") d = fs::path(d).parent_path().string();
    if (d == "/" || d.empty() || in_system_allowlist(d)) continue;
    std::error_code ec;
    if (!fs::exists(d, ec)) continue;
    bool covered = false;
    for (auto it = out.begin(); it != out.end();) {
      if (d == *it || d.rfind(*it + "/", 0) == 0) {
        covered = true;
        break;
      }
      if (it->rfind(d + "/", 0) == 0) it = out.erase(it);
      else ++it;
    }
    if (!covered) out.push_back(d);
  }
  return out;
}

std::vector<std::string> missing_packages(const std::vector<std::string>& apt) {
  static std::once_flag once;
  static std::set<std::string> installed;
  std::call_once(once, [] {
    std::ifstream in("/var/lib/dpkg/status");
    std::string line, package;
    while (std::getline(in, line)) {
      if (line.rfind("Package: ", 0) == 0) package = line.substr(9);
      else if (line.rfind("Status: ", 0) == 0 && line.find(" installed") != std::string::npos &&
               line.find("not-installed") == std::string::npos && !package.empty())
        installed.insert(package);
    }
  });
  std::vector<std::string> missing;
  for (const auto& p : apt)
    if (!installed.count(p)) missing.push_back(p);
  return missing;
}

std::string environment_unsupported(const Environment& env) {
  if (env.supported) return "";
  return env.repo + " " + (env.version.empty() ? "(no version)" : env.version) + " is not supported here: " + env.why;
}

std::string environment_problem(const Environment& env) {
  std::vector<std::string> parts;
  auto missing = missing_packages(env.apt);
  if (!missing.empty()) {
    std::string s = "Debian package" + std::string(missing.size() > 1 ? "s " : " ");
    for (size_t i = 0; i < missing.size(); ++i) s += (i ? ", " : "") + missing[i];
    parts.push_back(s);
  }
  if (!env.interpreter.empty() && access(env.interpreter.c_str(), X_OK) != 0)
    parts.push_back("interpreter " + env.interpreter);
  if (parts.empty()) return "";
  std::string s = "environment missing ";
  for (size_t i = 0; i < parts.size(); ++i) s += (i ? "; " : "") + parts[i];
  return s;
}

}  // namespace swebox::tasks
