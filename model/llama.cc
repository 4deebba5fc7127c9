#include "model/llama.h"

#include <algorithm>
#include <cstring>
#include <limits>
#include <optional>

#include "model/half.h"

namespace swebox::model {

namespace {

// Hyperparameters beyond these are a corrupt file, not a model (and would overflow the sizes).
constexpr int64_t kMaxDim = 1 << 20, kMaxLayers = 4096, kMaxVocab = 1 << 24, kMaxContext = 1 << 24;

int checked_int(const std::string& file, const std::string& what, int64_t value, int64_t max) {
  if (value <= 0 || value > max)
    throw ModelError(file + ": " + what + " is " + std::to_string(value) + ", not in 1.." + std::to_string(max));
  return static_cast<int>(value);
}

void check_shape(const std::string& file, LlamaConfig& c) {
  if (c.dim % c.n_heads != 0)
    throw ModelError(file + ": embedding length " + std::to_string(c.dim) + " is not a multiple of the " +
                     std::to_string(c.n_heads) + " attention heads");
  if (c.n_kv_heads > c.n_heads || c.n_heads % c.n_kv_heads != 0)
    throw ModelError(file + ": " + std::to_string(c.n_heads) + " attention heads cannot share " +
                     std::to_string(c.n_kv_heads) + " key/value heads evenly");
  c.head_dim = c.dim / c.n_heads;
  if (c.head_dim % 2 != 0)
    throw ModelError(file + ": head size " + std::to_string(c.head_dim) + " is odd; RoPE rotates pairs");
  if (c.rope_dims <= 0) c.rope_dims = c.head_dim;
  if (c.rope_dims > c.head_dim || c.rope_dims % 2 != 0)
    throw ModelError(file + ": RoPE dimension count " + std::to_string(c.rope_dims) +
                     " is odd or larger than the head size " + std::to_string(c.head_dim));
  if (!(c.rope_theta > 0) || !(c.rms_eps >= 0))
    throw ModelError(file + ": RoPE base and RMS epsilon must be positive");
}

Matrix f32_matrix(const uint8_t* data, uint64_t rows, uint64_t cols) {
  return Matrix{TensorType::f32, rows, cols, cols * 4, data};
}

std::vector<float> f32_vector(const uint8_t* data, size_t n) {
  std::vector<float> out(n);
  std::memcpy(out.data(), data, 4 * n);
  return out;
}

// ---- GGUF ---------------------------------------------------------------------------------------

class GgufModelReader {
 public:
  explicit GgufModelReader(const Gguf& g) : g_(g) {}

  int hyper(const std::string& key, int64_t max, std::optional<int64_t> fallback = std::nullopt) const {
    const GgufValue* v = g_.find(key);
    if (!v) {
      if (fallback) return static_cast<int>(*fallback);
      throw ModelError(g_.name() + ": metadata '" + key + "' is missing; the model's shape cannot be known");
    }
    try {
      return checked_int(g_.name(), "metadata '" + key + "'", v->as_int(key), max);
    } catch (const GgufError& e) {
      throw ModelError(g_.name() + ": " + e.what());
    }
  }

  const GgufTensor& tensor(const std::string& name) const {
    const GgufTensor* t = g_.find_tensor(name);
    if (!t) throw ModelError(g_.name() + ": tensor '" + name + "' is missing");
    return *t;
  }

  // A weight matrix of `rows` rows of `cols`: ggml dims {cols, rows}.
  Matrix matrix(const std::string& name, uint64_t cols, uint64_t rows) const {
    const GgufTensor& t = tensor(name);
    if (t.dims != std::vector<uint64_t>{cols, rows})
      throw ModelError(g_.name() + ": tensor '" + name + "' has shape " + shape(t) + ", expected [" +
                       std::to_string(cols) + ", " + std::to_string(rows) + "]");
    if (!kernels_support(t.type))
      throw ModelError(g_.name() + ": tensor '" + name + "' is " + tensor_type_name(static_cast<uint32_t>(t.type)) +
                       ", which this engine cannot compute with yet (F32, F16, BF16, Q8_0, Q4_0, Q4_K, Q6_K)");
    return Matrix{t.type, rows, cols, t.bytes / rows, t.data.data()};
  }

  std::vector<float> vector(const std::string& name, uint64_t n) const {
    const GgufTensor& t = tensor(name);
    if (t.dims != std::vector<uint64_t>{n})
      throw ModelError(g_.name() + ": tensor '" + name + "' has shape " + shape(t) + ", expected [" +
                       std::to_string(n) + "]");
    if (t.type != TensorType::f32 && t.type != TensorType::f16 && t.type != TensorType::bf16)
      throw ModelError(g_.name() + ": tensor '" + name + "' is " + tensor_type_name(static_cast<uint32_t>(t.type)) +
                       "; a norm weight must be F32, F16 or BF16");
    std::vector<float> out(n);
    dequantize_row(t.type, t.data.data(), out.data(), n);
    return out;
  }

 private:
  static std::string shape(const GgufTensor& t) {
    std::string s = "[";
    for (size_t i = 0; i < t.dims.size(); ++i) s += (i ? ", " : "") + std::to_string(t.dims[i]);
    return s + "]";
  }
  const Gguf& g_;
};

}  // namespace

LlamaWeights load_gguf_weights(std::shared_ptr<const Gguf> gguf) {
  const Gguf& g = *gguf;
  const std::string& file = g.name();
  LlamaWeights w;
  w.gguf = gguf;
  LlamaConfig& c = w.config;
  std::string arch;
  try {
    arch = std::string(g.require("general.architecture").as_string("general.architecture"));
  } catch (const GgufError& e) {
    throw ModelError(std::string(e.what()) + "; it names the model's architecture");
  }
  if (arch != "llama")
    throw ModelError(file + ": architecture '" + arch + "' is not supported yet (supported: llama)");
  c.architecture = arch;
  GgufModelReader r(g);
  const std::string p = arch + ".";
  c.dim = r.hyper(p + "embedding_length", kMaxDim);
  c.hidden_dim = r.hyper(p + "feed_forward_length", kMaxDim);
  c.n_layers = r.hyper(p + "block_count", kMaxLayers);
  c.n_heads = r.hyper(p + "attention.head_count", kMaxDim);
  c.n_kv_heads = r.hyper(p + "attention.head_count_kv", kMaxDim, c.n_heads);
  c.context_length = r.hyper(p + "context_length", kMaxContext);
  c.rope_dims = r.hyper(p + "rope.dimension_count", kMaxDim, 0);
  try {
    c.rope_theta = static_cast<float>(g.get_float(p + "rope.freq_base", 10000.0));
    c.rms_eps = static_cast<float>(g.get_float(p + "attention.layer_norm_rms_epsilon", 1e-5));
  } catch (const GgufError& e) {
    throw ModelError(e.what());
  }
  if (g.find(p + "rope.scaling.type") &&
      g.get_string(p + "rope.scaling.type", "none") != "none")
    throw ModelError(file + ": RoPE scaling '" + std::string(g.get_string(p + "rope.scaling.type", "")) +
                     "' is not supported yet");
  if (g.find_tensor("rope_freqs.weight"))
    throw ModelError(file + ": per-frequency RoPE factors (rope_freqs.weight, Llama 3.1 scaling) are not supported yet");
  if (const GgufValue* key_length = g.find(p + "attention.key_length"))
    if (key_length->as_int(p + "attention.key_length") * c.n_heads != c.dim)
      throw ModelError(file + ": a head size other than embedding length / heads is not supported yet");
  check_shape(file, c);

  const GgufTensor& embd = r.tensor("token_embd.weight");
  if (embd.dims.size() != 2)
    throw ModelError(file + ": tensor 'token_embd.weight' must have 2 dimensions");
  c.vocab_size = checked_int(file, "the vocabulary size (token_embd.weight's rows)",
                             static_cast<int64_t>(std::min<uint64_t>(embd.dims[1], kMaxVocab + 1)), kMaxVocab);
  if (const GgufValue* tokens = g.find("tokenizer.ggml.tokens"))
    if (tokens->type == GgufType::array && tokens->count != static_cast<uint64_t>(c.vocab_size))
      throw ModelError(file + ": the vocabulary has " + std::to_string(tokens->count) +
                       " tokens but token_embd.weight has " + std::to_string(c.vocab_size) + " rows");
  const uint64_t dim = c.dim, hidden = c.hidden_dim, kv_dim = uint64_t(c.n_kv_heads) * c.head_dim;
  w.token_embedding = r.matrix("token_embd.weight", dim, c.vocab_size);
  for (int l = 0; l < c.n_layers; ++l) {
    const std::string b = "blk." + std::to_string(l) + ".";
    LlamaLayer layer;
    layer.attn_norm = r.vector(b + "attn_norm.weight", dim);
    layer.wq = r.matrix(b + "attn_q.weight", dim, dim);
    layer.wk = r.matrix(b + "attn_k.weight", dim, kv_dim);
    layer.wv = r.matrix(b + "attn_v.weight", dim, kv_dim);
    layer.wo = r.matrix(b + "attn_output.weight", dim, dim);
    layer.ffn_norm = r.vector(b + "ffn_norm.weight", dim);
    layer.w_gate = r.matrix(b + "ffn_gate.weight", dim, hidden);
    layer.w_up = r.matrix(b + "ffn_up.weight", dim, hidden);
    layer.w_down = r.matrix(b + "ffn_down.weight", hidden, dim);
    w.layers.push_back(std::move(layer));
  }
  w.output_norm = r.vector("output_norm.weight", dim);
  c.tied_output = g.find_tensor("output.weight") == nullptr;
  w.output = c.tied_output ? w.token_embedding : r.matrix("output.weight", dim, c.vocab_size);
  return w;
}

// ---- llama2.c -----------------------------------------------------------------------------------

namespace {
std::shared_ptr<const MappedFile> map_weight_file(const std::string& path) {
  try {
    return MappedFile::open(path);
  } catch (const GgufError& e) {
    throw ModelError(e.what());
  }
}

LlamaWeights load_llama2c(std::shared_ptr<const MappedFile> file, const std::string& path) {
  const auto bytes = file->bytes();
  if (bytes.size() >= 4 && std::memcmp(bytes.data(), "ak42", 4) == 0)
    throw ModelError(path + ": a llama2.c checkpoint of the versioned export format ('ak42'); only the "
                            "legacy format that llama2.c's run.c reads is supported (export with --version 0)");
  if (bytes.size() < 28)
    throw ModelError(path + ": " + std::to_string(bytes.size()) +
                     " bytes, too short for a llama2.c checkpoint's 28-byte header");
  int32_t header[7];
  std::memcpy(header, bytes.data(), sizeof header);
  LlamaWeights w;
  w.file = file;
  LlamaConfig& c = w.config;
  c.dim = checked_int(path, "dim", header[0], kMaxDim);
  c.hidden_dim = checked_int(path, "hidden_dim", header[1], kMaxDim);
  c.n_layers = checked_int(path, "n_layers", header[2], kMaxLayers);
  c.n_heads = checked_int(path, "n_heads", header[3], kMaxDim);
  c.n_kv_heads = checked_int(path, "n_kv_heads", header[4], kMaxDim);
  c.tied_output = header[5] > 0;
  c.vocab_size = checked_int(path, "vocab_size", header[5] == std::numeric_limits<int32_t>::min() ? 0 :
                                                     (header[5] > 0 ? header[5] : -header[5]), kMaxVocab);
  c.context_length = checked_int(path, "seq_len", header[6], kMaxContext);
  check_shape(path, c);  // llama2.c: RoPE over the whole head, base 10000, eps 1e-5

  const uint64_t dim = c.dim, hidden = c.hidden_dim, layers = c.n_layers, vocab = c.vocab_size;
  const uint64_t kv_dim = uint64_t(c.n_kv_heads) * c.head_dim;
  // All below 2^20 * 2^20 * 2^12 * ... stays far from 2^64: every factor was bounded above.
  const uint64_t floats = vocab * dim + layers * dim + layers * dim * dim + 2 * layers * dim * kv_dim +
                          layers * dim * dim + layers * dim + 3 * layers * dim * hidden + dim +
                          uint64_t(c.context_length) * c.head_dim + (c.tied_output ? 0 : vocab * dim);
  const uint64_t expected = 28 + 4 * floats;
  if (bytes.size() != expected)
    throw ModelError(path + ": " + std::to_string(bytes.size()) + " bytes, but a llama2.c checkpoint of this header (dim " +
                     std::to_string(c.dim) + ", hidden " + std::to_string(c.hidden_dim) + ", " +
                     std::to_string(c.n_layers) + " layers, " + std::to_string(c.n_heads) + "/" +
                     std::to_string(c.n_kv_heads) + " heads, vocab " + std::to_string(c.vocab_size) +
                     ", seq_len " + std::to_string(c.context_length) + ") has " + std::to_string(expected) +
                     ": the file is truncated, corrupt, or not a llama2.c checkpoint");

  const uint8_t* p = bytes.data() + 28;
  auto take = [&](uint64_t n) {
    const uint8_t* at = p;
    p += 4 * n;
    return at;
  };
  w.token_embedding = f32_matrix(take(vocab * dim), vocab, dim);
  w.layers.resize(layers);
  // llama2.c stores each kind of weight for all layers together.
  for (auto& l : w.layers) l.attn_norm = f32_vector(take(dim), dim);
  for (auto& l : w.layers) l.wq = f32_matrix(take(dim * dim), dim, dim);
  for (auto& l : w.layers) l.wk = f32_matrix(take(kv_dim * dim), kv_dim, dim);
  for (auto& l : w.layers) l.wv = f32_matrix(take(kv_dim * dim), kv_dim, dim);
  for (auto& l : w.layers) l.wo = f32_matrix(take(dim * dim), dim, dim);
  for (auto& l : w.layers) l.ffn_norm = f32_vector(take(dim), dim);
  for (auto& l : w.layers) l.w_gate = f32_matrix(take(hidden * dim), hidden, dim);
  for (auto& l : w.layers) l.w_down = f32_matrix(take(dim * hidden), dim, hidden);
  for (auto& l : w.layers) l.w_up = f32_matrix(take(hidden * dim), hidden, dim);
  w.output_norm = f32_vector(take(dim), dim);
  take(uint64_t(c.context_length) * c.head_dim);  // the precomputed RoPE table, unused (recomputed)
  w.output = c.tied_output ? w.token_embedding : f32_matrix(take(vocab * dim), vocab, dim);
  return w;
}
}  // namespace

LlamaWeights load_llama2c_weights(const std::string& path) { return load_llama2c(map_weight_file(path), path); }

LlamaWeights load_weights(const std::string& path) {
  std::shared_ptr<const MappedFile> file = map_weight_file(path);
  const auto bytes = file->bytes();
  if (bytes.size() >= 4 && std::memcmp(bytes.data(), "GGUF", 4) == 0)
    return load_gguf_weights(std::make_shared<const Gguf>(Gguf::parse(file, path)));
  return load_llama2c(file, path);
}

// ---- the forward pass ---------------------------------------------------------------------------

LlamaSession::LlamaSession(const LlamaWeights& weights, int max_positions)
    : w_(weights),
      max_positions_(max_positions > 0 ? std::min(max_positions, weights.config.context_length)
                                       : weights.config.context_length) {
  const LlamaConfig& c = w_.config;
  const size_t kv_dim = size_t(c.n_kv_heads) * c.head_dim;
  x_.resize(c.dim);
  xb_.resize(c.dim);
  xb2_.resize(c.dim);
  q_.resize(c.dim);
  hb_.resize(c.hidden_dim);
  hb2_.resize(c.hidden_dim);
  scores_.resize(max_positions_);
  logits_.resize(c.vocab_size);
  key_cache_.resize(size_t(c.n_layers) * max_positions_ * kv_dim);
  value_cache_.resize(key_cache_.size());
}

const std::vector<float>& LlamaSession::forward(int token, int pos) {
  const LlamaConfig& c = w_.config;
  if (token < 0 || token >= c.vocab_size)
    throw std::out_of_range("token " + std::to_string(token) + " is outside the vocabulary of " +
                            std::to_string(c.vocab_size));
  if (pos < 0 || pos >= max_positions_)
    throw std::out_of_range("position " + std::to_string(pos) + " is outside the context of " +
                            std::to_string(max_positions_) + " positions");
  const size_t dim = c.dim, hd = c.head_dim, kv_dim = size_t(c.n_kv_heads) * hd;
  const size_t group = c.n_heads / c.n_kv_heads;  // query heads per key/value head
  float* x = x_.data();
  float* xb = xb_.data();

  dequantize_row(w_.token_embedding.type, w_.token_embedding.row(token), x, dim);
  for (int l = 0; l < c.n_layers; ++l) {
    const LlamaLayer& layer = w_.layers[l];
    const size_t layer_cache = size_t(l) * max_positions_ * kv_dim;
    float* k = key_cache_.data() + layer_cache + size_t(pos) * kv_dim;
    float* v = value_cache_.data() + layer_cache + size_t(pos) * kv_dim;

    // Attention: norm, Q K V, RoPE, each head over the cache, output projection, residual.
    rmsnorm(xb, x, layer.attn_norm.data(), dim, c.rms_eps);
    matvec(layer.wq, xb, q_.data());
    matvec(layer.wk, xb, k);
    matvec(layer.wv, xb, v);
    for (int h = 0; h < c.n_heads; ++h) rope_adjacent_pairs(q_.data() + h * hd, hd, c.rope_dims, pos, c.rope_theta);
    for (int h = 0; h < c.n_kv_heads; ++h) rope_adjacent_pairs(k + h * hd, hd, c.rope_dims, pos, c.rope_theta);
    for (int h = 0; h < c.n_heads; ++h) {
      const size_t kv_head = (h / group) * hd;
      attention_head(q_.data() + h * hd, key_cache_.data() + layer_cache + kv_head,
                     value_cache_.data() + layer_cache + kv_head, kv_dim, hd, pos, scores_.data(), xb + h * hd);
    }
    matvec(layer.wo, xb, xb2_.data());
    for (size_t i = 0; i < dim; ++i) x[i] += xb2_[i];

    // Feed-forward: norm, gate and up, SwiGLU, down, residual.
    rmsnorm(xb, x, layer.ffn_norm.data(), dim, c.rms_eps);
    matvec(layer.w_gate, xb, hb_.data());
    matvec(layer.w_up, xb, hb2_.data());
    swiglu(hb_.data(), hb2_.data(), c.hidden_dim);
    matvec(layer.w_down, hb_.data(), xb2_.data());
    for (size_t i = 0; i < dim; ++i) x[i] += xb2_[i];
  }
  rmsnorm(x, x, w_.output_norm.data(), dim, c.rms_eps);
  matvec(w_.output, x, logits_.data());
  return logits_;
}

}  // namespace swebox::model
