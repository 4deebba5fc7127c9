#include "tasks/preflight.h"

#include <filesystem>
#include <map>
#include <set>

#include "sandbox/docker_backend.h"
#include "tasks/instance_image.h"
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

// Evaluations in instance images: each image present (nothing is pulled), nothing else.
std::vector<std::string> preflight_images(const std::vector<Instance>& instances, const PreflightOptions& o) {
  std::vector<std::string> problems;
  std::vector<std::string> no_image;
  std::map<std::string, std::vector<std::string>> by_image;  // image -> instances
  for (const Instance& inst : instances) {
    try {
      std::string image = instance_image(inst, o.image_template);
      if (image.empty()) no_image.push_back(inst.instance_id);
      else by_image[image].push_back(inst.instance_id);
    } catch (const std::exception& e) {
      problems.push_back(std::string(e.what()) + " [" + inst.instance_id + "]");
    }
  }
  if (!no_image.empty())
    problems.push_back("no image to evaluate in: the suite records have no `image` and no --image-template was given "
                       "(SWE-bench's local names: --image-template 'sweb.eval.x86_64.{instance_id_lower}:latest') [" +
                       instances_word(no_image.size()) + ": " + some_ids(no_image) + "]");
  if (by_image.empty()) return problems;
  if (!sandbox::docker_available()) {
    problems.push_back("no Docker daemon answers at /var/run/docker.sock, so no instance image can be used "
                       "(start one with scripts/start-dockerd.sh, as root)");
    return problems;
  }
  std::vector<std::string> missing, ids;
  for (const auto& [image, list] : by_image)
    if (!sandbox::docker_image_present(image)) {
      missing.push_back(image);
      ids.insert(ids.end(), list.begin(), list.end());
    }
  if (!missing.empty())
    problems.push_back(std::to_string(missing.size()) + (missing.size() == 1 ? " image is" : " images are") +
                       " not on this host: " + some_ids(missing) + "; " + instance_image_hint(ids.front()) + " [" +
                       instances_word(ids.size()) + ": " + some_ids(ids) + "]");
  return problems;
}

}  // namespace

std::vector<std::string> preflight_tasks(const std::vector<Instance>& instances, const PreflightOptions& o) {
  if (o.instance_images) return preflight_images(instances, o);
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
      if (std::string why = environment_unsupported(env); !why.empty()) {
        problems.push_back(why + " (" + o.environments->source() + "; leave these out with --instances, or "
                           "`swebox validate` writes the suite of those that run) [" + instances_word(ids.size()) +
                           ": " + some_ids(ids) + "]");
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
