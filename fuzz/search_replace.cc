// The search/replace side of the similarity reward (SWE-RL): a model's reply with <think> and
// <solution> parts holding "### path" SEARCH/REPLACE blocks. Input: ORIGINAL \0 ORACLE_NEW \0 REPLY,
// for one file "f.py" (seeds name it).
// Properties: no crash, no uncaught exception; the reward is -1 or in [0,1].
#include <stdexcept>

#include "fuzz/fuzz_input.h"
#include "tasks/similarity_reward.h"

using namespace swebox;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto p = fuzz::parts(fuzz::as_text(data, size), 3);
  tasks::FileContents original{{"f.py", std::string(p[0])}}, oracle{{"f.py", std::string(p[1])}};
  tasks::SimilarityResult r = tasks::search_replace_reward(original, oracle, p[2]);
  FUZZ_CHECK(r.reward == -1.0 || (r.reward >= 0.0 && r.reward <= 1.0));
  tasks::SearchReplaceEdits edits = tasks::parse_search_replace(p[2]);
  tasks::FileContents files = original;
  for (const auto& [path, _] : edits) files.emplace(path, std::string(p[0]));
  try {
    (void)tasks::apply_search_replace(files, edits);
  } catch (const std::invalid_argument&) {
  }
  (void)tasks::normalized_file_diff(p[0], p[1]);
  return 0;
}
