#include "tasks/preflight.h"

#include <filesystem>
#include <map>
#include <set>

#include "tasks/repository.h"

namespace swebox::tasks {

namespace fs = std::filesystem;

namespace {

// "a, b, c and 4 more": instance ids named in one problem line.
std::string some_ids(const std::vector<std::string>& ids) {
  std::string s;
  const size_t shown = std::min<size_t>(ids.size(), 3);
  for (size_t i = 0; i < shown; ++i) s += (i ? ", " : "") + ids[i];
  if (ids.size() > shown) s += " and " + std::to_string(ids.size() - shown) + " more";
  return s;
}

std::string instances_word(size_t n) { return std::to_string(n) + (n == 1 ? " instance" : " instances"); }

}  // namespace

std::vector<std::string> preflight_tasks(const std::vector<Instance>& instances, const PreflightOptions& o) {
  std::vector<std::string> problems;
  // Repositories and commits. A base commit whose tree is already cached needs no repository.
  std::map<std::string, std::vector<const Instance*>> by_repo;
  for (const Instance& inst : instances) by_repo[inst.repo].push_back(&inst);
  for (const auto& [repo, insts] : by_repo) {
    std::vector<const Instance*> uncached;
    for (const Instance* inst : insts) {
      std::error_code ec;
      if (!o.cache || !fs::is_directory(o.cache->tree_path(repo, inst->base_commit), ec)) uncached.push_back(inst);
    }
    if (uncached.empty()) continue;
    std::vector<std::string> ids;
    for (const Instance* inst : uncached) ids.push_back(inst->instance_id);
    GitRepository repository;
    try {
      repository = open_task_repository(o.cache ? o.cache->options().repos_dir : "", repo);
    } catch (const std::exception& e) {
      problems.push_back(std::string(e.what()) + " [" + instances_word(ids.size()) + ": " + some_ids(ids) + "]");
      continue;
    }
    std::map<std::string, std::vector<std::string>> missing;  // commit -> instances
    for (const Instance* inst : uncached) {
      try {
        find_commit(repository.get(), inst->base_commit);
      } catch (const std::exception& e) {
        auto& list = missing[e.what()];
        list.push_back(inst->instance_id);
      }
    }
    for (const auto& [why, list] : missing) problems.push_back(why + " [" + some_ids(list) + "]");
  }
  // Environments: every repository/version the table knows, with its packages and interpreter here.
  if (o.environments) {
    std::map<std::pair<std::string, std::string>, std::vector<std::string>> by_env;
    for (const Instance& inst : instances) by_env[{inst.repo, inst.version}].push_back(inst.instance_id);
    std::map<std::string, std::vector<std::string>> unready;  // problem -> instances
    for (const auto& [key, ids] : by_env) {
      Environment env;
      try {
        env = o.environments->resolve(key.first, key.second);
      } catch (const std::exception& e) {
        problems.push_back(std::string(e.what()) + " [" + some_ids(ids) + "]");
        continue;
      }
      if (!env.known) {
        problems.push_back("no environment for " + key.first + " version " +
                           (key.second.empty() ? "(none)" : key.second) + " in " + o.environments->source() +
                           " (add an entry, or leave these out with --instances; `swebox env check --suite FILE` "
                           "says per instance what will run) [" + instances_word(ids.size()) + ": " + some_ids(ids) + "]");
        continue;
      }
      if (std::string why = environment_problem(env); !why.empty()) {
        auto& list = unready[why + " for " + key.first];
        list.insert(list.end(), ids.begin(), ids.end());
      }
    }
    for (const auto& [why, ids] : unready)
      problems.push_back(why + " (scripts/setup.sh installs the packages of tasks/environments.json) [" +
                         instances_word(ids.size()) + ": " + some_ids(ids) + "]");
  }
  if (o.need_problem_statement) {
    std::vector<std::string> ids;
    for (const Instance& inst : instances)
      if (inst.problem_statement.find_first_not_of(" \t\r\n") == std::string::npos) ids.push_back(inst.instance_id);
    if (!ids.empty())
      problems.push_back("no problem statement (the agent's task) in " + instances_word(ids.size()) + ": " +
                         some_ids(ids) + " (fill problem_statement, or leave them out with --instances)");
  }
  return problems;
}

std::string content_id(std::string_view bytes) {
  init_libgit2();
  git_oid id;
  check_git(git_odb_hash(&id, bytes.data(), bytes.size(), GIT_OBJECT_BLOB), "cannot hash");
  return oid_hex(id);
}

}  // namespace swebox::tasks
