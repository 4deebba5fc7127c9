// The CPU kernels of the forward pass, each a small function over one row or one head, in the
// order model/llama.cc calls them. They are the reference that a CUDA kernel is checked against
// (as in karpathy/llm.c): plain loops, no state, float accumulation.
#pragma once

#include <cstddef>
#include <cstdint>

#include "model/gguf.h"

namespace swebox::model {

// A weight matrix in the file: `rows` rows of `cols` elements, each row `row_bytes` long, in
// ggml's layout for `type` (blocks of 32 or 256 elements for the quantized types).
struct Matrix {
  TensorType type = TensorType::f32;
  uint64_t rows = 0;
  uint64_t cols = 0;
  uint64_t row_bytes = 0;
  const uint8_t* data = nullptr;
  const uint8_t* row(uint64_t r) const { return data + r * row_bytes; }
};

// Whether the kernels can compute with weights of this type.
bool kernels_support(TensorType type);

// dot(row, x) over n elements of one row in `type`'s layout, dequantizing block by block.
float dot_row(TensorType type, const uint8_t* row, const float* x, size_t n);
// One row to floats (an embedding lookup).
void dequantize_row(TensorType type, const uint8_t* row, float* out, size_t n);
// out[r] = dot(W row r, x) for every row of W (out has W.rows elements).
void matvec(const Matrix& w, const float* x, float* out);

// out = x / rms(x) * weight (out may be x).
void rmsnorm(float* out, const float* x, const float* weight, size_t n, float eps);
// Rotary position embedding of one head of `head_dim` at position `pos`. Adjacent pairs
// (x[2i], x[2i+1]) rotate by pos * theta^(-2i/rot_dims): llama.cpp's "normal" mode, that of
// llama2.c and of GGUF `llama` files. Only the first rot_dims elements rotate.
void rope_adjacent_pairs(float* head, size_t head_dim, size_t rot_dims, int pos, float theta);
// In place, numerically stable.
void softmax(float* x, size_t n);
// gate[i] = silu(gate[i]) * up[i].
void swiglu(float* gate, const float* up, size_t n);
// One query head over positions 0..pos of its key/value head: out = softmax(q·k / sqrt(d)) · v.
// keys/values: position t's vector at keys + t * stride. scores: pos + 1 floats of scratch.
void attention_head(const float* q, const float* keys, const float* values, size_t stride,
                    size_t head_dim, int pos, float* scores, float* out);

}  // namespace swebox::model
