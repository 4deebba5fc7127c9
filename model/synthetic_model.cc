#include "model/synthetic_model.h"

#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "model/kernels.h"
#include "model/quantize.h"

namespace swebox::model {

GgufWriter synthetic_llama(const SyntheticLlama& s) {
  std::mt19937_64 rng(s.seed);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  GgufWriter w;
  w.add_string("general.architecture", "llama");
  w.add_string("general.name", "swebox synthetic llama");
  w.add_uint32("llama.embedding_length", s.dim);
  w.add_uint32("llama.feed_forward_length", s.hidden_dim);
  w.add_uint32("llama.block_count", s.n_layers);
  w.add_uint32("llama.attention.head_count", s.n_heads);
  w.add_uint32("llama.attention.head_count_kv", s.n_kv_heads);
  w.add_uint32("llama.context_length", s.context_length);
  w.add_float32("llama.rope.freq_base", s.rope_theta);
  w.add_float32("llama.attention.layer_norm_rms_epsilon", s.rms_eps);

  const TensorType values_type = s.values_of.value_or(s.weight_type);
  // rows x cols of N(0, 1/cols) (the scale keeps activations of order 1 through the layers).
  auto matrix = [&](const std::string& name, int cols, int rows, float gain = 1.0f) {
    std::string data;
    std::vector<float> row(cols), values(cols);
    const float scale = gain / std::sqrt(static_cast<float>(cols));
    for (int r = 0; r < rows; ++r) {
      for (float& v : row) v = normal(rng) * scale;
      const std::string q = quantize_row(values_type, row.data(), cols);
      if (values_type == s.weight_type) {
        data += q;
      } else {
        dequantize_row(values_type, reinterpret_cast<const uint8_t*>(q.data()), values.data(), cols);
        data += quantize_row(s.weight_type, values.data(), cols);
      }
    }
    w.add_tensor(name, s.weight_type, {uint64_t(cols), uint64_t(rows)}, std::move(data));
  };
  auto norm = [&](const std::string& name) {
    std::vector<float> v(s.dim);
    for (float& x : v) x = 1.0f + 0.1f * normal(rng);
    w.add_tensor(name, TensorType::f32, {uint64_t(s.dim)},
                 std::string(reinterpret_cast<const char*>(v.data()), 4 * v.size()));
  };
  const int head_dim = s.dim / s.n_heads, kv_dim = s.n_kv_heads * head_dim;
  matrix("token_embd.weight", s.dim, s.vocab_size, std::sqrt(static_cast<float>(s.dim)));
  for (int l = 0; l < s.n_layers; ++l) {
    const std::string b = "blk." + std::to_string(l) + ".";
    norm(b + "attn_norm.weight");
    matrix(b + "attn_q.weight", s.dim, s.dim);
    matrix(b + "attn_k.weight", s.dim, kv_dim);
    matrix(b + "attn_v.weight", s.dim, kv_dim);
    matrix(b + "attn_output.weight", s.dim, s.dim);
    norm(b + "ffn_norm.weight");
    matrix(b + "ffn_gate.weight", s.dim, s.hidden_dim);
    matrix(b + "ffn_up.weight", s.dim, s.hidden_dim);
    matrix(b + "ffn_down.weight", s.hidden_dim, s.dim);
  }
  norm("output_norm.weight");
  if (!s.tied_output) matrix("output.weight", s.dim, s.vocab_size, 4.0f);
  return w;
}

}  // namespace swebox::model
