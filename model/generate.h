// The generation loop of one sequence, as llama2.c's run.c has it: the prompt's tokens are fed
// one position at a time (the first, usually BOS, starts the sequence), then each sampled token
// is fed back, until `positions` positions are used or a stop token is sampled.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <vector>

#include "model/llama.h"
#include "model/sampler.h"

namespace swebox::model {

struct GenerationStep {
  int32_t token = 0;
  float logprob = 0;         // the model's log-probability of `token` at its position
  bool from_prompt = false;  // forced by the prompt rather than sampled
};

// Steps for prompt[1..] (from_prompt) and for every sampled token; a sampled stop token ends the
// loop and is not returned. `positions` counts the prompt (llama2.c's -n); capped at the session's
// context. on_step, when given, sees each step as it is made (streaming) and returns whether to go
// on (false: stop after this step, e.g. on a stop string).
std::vector<GenerationStep> generate(LlamaSession& session, std::span<const int32_t> prompt, int positions,
                                     Sampler& sampler, std::span<const int32_t> stop_tokens,
                                     const std::function<bool(const GenerationStep&)>& on_step = {});

}  // namespace swebox::model
