// The Llama-family transformer on the CPU: its shape (read from the weight file, never assumed),
// its weights (views into the memory-mapped file), and the forward pass of one token with a KV
// cache. forward() reads top to bottom as the model is defined, as llama2.c's does: norm, QKV,
// RoPE, attention, output projection, residual, then the SwiGLU feed-forward block.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "model/gguf.h"
#include "model/kernels.h"

namespace swebox::model {

// A weight file that cannot be used: names the file and the problem.
struct ModelError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct LlamaConfig {
  std::string architecture = "llama";
  int dim = 0;           // embedding length
  int hidden_dim = 0;    // feed-forward length
  int n_layers = 0;
  int n_heads = 0;
  int n_kv_heads = 0;    // < n_heads: grouped-query attention
  int vocab_size = 0;
  int context_length = 0;
  int head_dim = 0;      // dim / n_heads
  int rope_dims = 0;     // how many of a head's dimensions rotate
  float rope_theta = 10000.0f;
  float rms_eps = 1e-5f;
  bool tied_output = false;  // the classifier is the token embedding
};

struct LlamaLayer {
  std::vector<float> attn_norm, ffn_norm;  // F32 copies (norm weights may be stored as F16)
  Matrix wq, wk, wv, wo;                   // [dim -> dim], [dim -> kv_dim] x2, [dim -> dim]
  Matrix w_gate, w_up, w_down;             // [dim -> hidden] x2, [hidden -> dim]
};

// The weights: views into the file, which they keep mapped.
struct LlamaWeights {
  LlamaConfig config;
  Matrix token_embedding;  // vocab rows of dim
  std::vector<LlamaLayer> layers;
  std::vector<float> output_norm;
  Matrix output;           // vocab rows of dim (the embedding when tied)
  std::shared_ptr<const MappedFile> file;
  std::shared_ptr<const Gguf> gguf;  // the GGUF's metadata (vocabulary), when loaded from one
};

// GGUF with architecture `llama`: hyperparameters from `llama.*` metadata, tensors by llama.cpp's
// names, each checked for shape and type. Throws ModelError (or GgufError) naming the problem.
LlamaWeights load_gguf_weights(std::shared_ptr<const Gguf> gguf);
// llama2.c's checkpoint: 7 int32 (dim, hidden_dim, layers, heads, kv heads, vocab (negative:
// separate classifier), seq_len), then F32 weights in llama2.c's order; sizes checked against the file.
LlamaWeights load_llama2c_weights(const std::string& path);
// By content: a file starting with "GGUF" is GGUF, anything else a llama2.c checkpoint.
LlamaWeights load_weights(const std::string& path);

// One sequence's state: KV cache and scratch buffers.
class LlamaSession {
 public:
  explicit LlamaSession(const LlamaWeights& weights, int max_positions = 0);  // 0: the context length
  // Runs token `token` at position `pos` (0-based, the cache holds positions < pos) and returns
  // the logits over the vocabulary (valid until the next call).
  const std::vector<float>& forward(int token, int pos);
  int max_positions() const { return max_positions_; }

 private:
  const LlamaWeights& w_;
  int max_positions_;
  std::vector<float> x_, xb_, xb2_, q_, hb_, hb2_, scores_, logits_;
  std::vector<float> key_cache_, value_cache_;  // [layer][position][kv_dim]
};

}  // namespace swebox::model
