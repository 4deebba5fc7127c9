// Picks the next token from the logits: greedy (temperature 0), or sampling at a temperature
// after top-k and top-p (nucleus) truncation, from a seeded generator, so a seed repeats a run.
// Also the chosen token's log-probability under the model (log-softmax of the raw logits, before
// temperature and truncation, as OpenAI-compatible servers report it).
#pragma once

#include <cstdint>
#include <span>
#include <vector>

namespace swebox::model {

struct SamplingParams {
  float temperature = 0.0f;  // 0: greedy (argmax, the lowest id on a tie)
  int top_k = 0;             // 0: no limit
  float top_p = 1.0f;        // 1: no limit
  uint64_t seed = 0;
};

struct SampledToken {
  int id = 0;
  float logprob = 0.0f;
};

class Sampler {
 public:
  explicit Sampler(SamplingParams params);  // throws std::invalid_argument on a bad parameter
  SampledToken sample(std::span<const float> logits);
  const SamplingParams& params() const { return params_; }

 private:
  double next_uniform();  // [0, 1)
  SamplingParams params_;
  uint64_t state_;
  std::vector<std::pair<float, int>> candidates_;
};

// log-softmax of logits[id] (stable).
float token_logprob(std::span<const float> logits, int id);

}  // namespace swebox::model
