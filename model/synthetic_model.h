// Llama-shaped GGUF files with random weights: the models of the tests (and, later, of the
// comparison against llama.cpp and the benchmarks), in any shape and weight type. The noise is
// Gaussian from a 64-bit generator, so no two rows repeat and greedy ties do not decide a token.
#pragma once

#include <cstdint>
#include <optional>

#include "model/gguf_writer.h"

namespace swebox::model {

struct SyntheticLlama {
  int dim = 64, hidden_dim = 192, n_layers = 2, n_heads = 4, n_kv_heads = 2, vocab_size = 256;
  int context_length = 128;
  bool tied_output = false;
  float rope_theta = 10000.0f, rms_eps = 1e-5f;
  TensorType weight_type = TensorType::f32;  // matrices and the embedding (norms stay F32)
  // Store the values `weight_type` holds after a round trip through this type (e.g. F32 weights
  // that are exactly a Q8_0 model's): two files that differ only in how they store the same values.
  std::optional<TensorType> values_of;
  uint64_t seed = 1;
};

GgufWriter synthetic_llama(const SyntheticLlama& shape);

}  // namespace swebox::model
