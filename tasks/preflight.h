// What must hold before the first episode or evaluation of a run, checked for every task at once so
// that one message lists everything missing (a typo in --repos is one line, not 500 failed episodes):
// the repository and base commit of each task (or its cached tree), the environment of each
// repository/version, and for episodes a problem statement; or, evaluating in instance images,
// each instance's image.
#pragma once

#include <string>
#include <vector>

#include "tasks/environment.h"
#include "tasks/suite.h"
#include "tasks/workspace_cache.h"

namespace swebox::tasks {

struct PreflightOptions {
  const WorkspaceCache* cache = nullptr;              // repositories and cached trees (required)
  const EnvironmentTable* environments = nullptr;     // null: environments are not checked
  bool need_problem_statement = false;                // `swebox run`: the agent's task text
  // `swebox eval --backend docker`: every instance is evaluated in its own image
  // (tasks/instance_image.h), which must be on this host; no repository, commit or environment.
  bool instance_images = false;
  std::string image_template;
};

// One line per problem, grouped (a missing repository is one line naming its instances), each
// saying what to do; empty when everything is in place. Never throws.
std::vector<std::string> preflight_tasks(const std::vector<Instance>& instances, const PreflightOptions& options);

// A stable identifier of some bytes (git's blob id: 40 hex digits), for recording what a run read.
std::string content_id(std::string_view bytes);

}  // namespace swebox::tasks
