// The judge's view of a patched tree, inside an evaluation's sandbox (never by following the tree's
// paths on the host): what the patch changed, as `git status` lists it against the base commit after
// the apply chain ran (so a patch in any format a lenient applier accepts is judged by its effect),
// which of it is test infrastructure (tasks/test_infrastructure.h), and, in sealed grading, that
// infrastructure put back as it is at base, with the repository's .git restored from a copy taken
// before the patch was applied.
//
// Order of use in an evaluation:
//   prepare_sealing(box, state)          before the apply chain (both modes: the copy of .git is
//                                        what the patched tree is compared with)
//   outside_modules(box, interpreter)    any time (cached per interpreter)
//   examine_tree(box, request)           after the apply chain: lists, classifies and, when
//                                        request.seal, resets
#pragma once

#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "sandbox/sandbox.h"
#include "tasks/test_infrastructure.h"

namespace swebox::tasks {

// Copies /testbed/.git to STATE/git (STATE created 0700). "" on success, else why not.
std::string prepare_sealing(sandbox::Sandbox& box, const std::string& state_dir);

// Top-level module names that `interpreter -I` can import (stdlib, built-ins, site/dist-packages);
// asked once per interpreter per process. Empty when the interpreter could not be asked.
std::set<std::string> outside_modules(sandbox::Sandbox& box, const std::string& interpreter);

struct TreeExamination {
  std::string state_dir;              // holds git/, the copy prepare_sealing made (required)
  bool seal = false;                  // put infrastructure back as at base
  InfrastructureContext context;      // base_has_file is filled in by examine_tree
};

struct TreeVerdict {
  std::string error;                  // the tree could not be examined or sealed ("" = fine)
  // One entry per infrastructure path: {path, change, why, part: "file" | "test sections"}.
  nlohmann::json entries = nlohmann::json::array();
  std::vector<std::string> reset_files;  // test files the patch changed
  std::vector<std::string> kept;         // changed paths judged as code
  bool git_dir_changed = false;          // the patch changed .git (sealed: restored; swebench: left)
  nlohmann::json steps_ms = nlohmann::json::object();  // where the time went
};

TreeVerdict examine_tree(sandbox::Sandbox& box, TreeExamination request);

}  // namespace swebox::tasks
