// The unified-diff side of the similarity reward (CWM's unidiff form): a predicted patch (the
// agent's) scored against the oracle patch. Input: ORACLE \0 PRED.
// Properties: no crash; the reward is -1 (format error) or in [0,1], every file's in [0,1].
#include "fuzz/fuzz_input.h"
#include "tasks/similarity_reward.h"

using namespace swebox;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto p = fuzz::parts(fuzz::as_text(data, size), 2);
  (void)tasks::normalized_patch_files(p[1]);
  for (bool ignore : {false, true}) {
    tasks::SimilarityResult r = tasks::unidiff_reward(p[0], p[1], ignore);
    FUZZ_CHECK(r.reward == -1.0 || (r.reward >= 0.0 && r.reward <= 1.0));
    for (const auto& f : r.files) FUZZ_CHECK(f.similarity >= 0.0 && f.similarity <= 1.0);
  }
  return 0;
}
