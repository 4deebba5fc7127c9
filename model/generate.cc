#include "model/generate.h"

#include <algorithm>
#include <stdexcept>

namespace swebox::model {

std::vector<GenerationStep> generate(LlamaSession& session, std::span<const int32_t> prompt, int positions,
                                     Sampler& sampler, std::span<const int32_t> stop_tokens,
                                     const std::function<bool(const GenerationStep&)>& on_step) {
  if (prompt.empty()) throw std::invalid_argument("generation needs at least one prompt token (BOS)");
  positions = std::min(positions, session.max_positions());
  std::vector<GenerationStep> steps;
  int32_t token = prompt[0];
  for (int pos = 0; pos < positions; ++pos) {
    const std::vector<float>& logits = session.forward(token, pos);
    GenerationStep step;
    if (static_cast<size_t>(pos) + 1 < prompt.size()) {
      step.token = prompt[pos + 1];
      step.logprob = token_logprob(logits, step.token);
      step.from_prompt = true;
    } else {
      const SampledToken next = sampler.sample(logits);
      if (std::find(stop_tokens.begin(), stop_tokens.end(), next.id) != stop_tokens.end()) break;
      step.token = next.id;
      step.logprob = next.logprob;
    }
    steps.push_back(step);
    if (on_step && !on_step(step)) break;
    token = step.token;
  }
  return steps;
}

}  // namespace swebox::model
