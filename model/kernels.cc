#include "model/kernels.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <stdexcept>
#include <string>

#include "model/byte_io.h"
#include "model/half.h"

namespace swebox::model {

namespace {

uint16_t load_u16(const uint8_t* p) { return load_le<uint16_t>(p); }
float load_f16(const uint8_t* p) { return f16_to_f32(load_u16(p)); }

// Block layouts (ggml's): Q8_0 = f16 d, int8 q[32]; value d * q.
// Q4_0 = f16 d, 16 bytes: element j is the low nibble of byte j, element j + 16 its high nibble;
// value d * (nibble - 8).
constexpr size_t kQ8_0Bytes = 34, kQ4_0Bytes = 18, kQ4_KBytes = 144, kQ6_KBytes = 210;

// Q4_K's 6-bit scale and minimum of sub-block j (0..7), packed in 12 bytes.
void q4_k_scale_min(int j, const uint8_t* scales, uint8_t& scale, uint8_t& min) {
  if (j < 4) {
    scale = scales[j] & 63;
    min = scales[j + 4] & 63;
  } else {
    scale = (scales[j + 4] & 0xf) | ((scales[j - 4] >> 6) << 4);
    min = (scales[j + 4] >> 4) | ((scales[j] >> 6) << 4);
  }
}

// Q4_K super-block of 256: f16 d, f16 dmin, 12 bytes of scales/minimums, 128 bytes of nibbles.
// Each 64 elements share 32 bytes: the low nibbles are sub-block 2k, the high ones 2k + 1;
// value d * scale * nibble - dmin * min.
template <typename Visit>
void q4_k_block(const uint8_t* block, Visit&& visit) {
  const float d = load_f16(block), dmin = load_f16(block + 2);
  const uint8_t* scales = block + 4;
  const uint8_t* q = block + 16;
  for (int chunk = 0; chunk < 4; ++chunk) {
    uint8_t s0, m0, s1, m1;
    q4_k_scale_min(2 * chunk, scales, s0, m0);
    q4_k_scale_min(2 * chunk + 1, scales, s1, m1);
    const float d0 = d * s0, min0 = dmin * m0, d1 = d * s1, min1 = dmin * m1;
    for (int l = 0; l < 32; ++l) visit(chunk * 64 + l, d0 * (q[l] & 0xf) - min0);
    for (int l = 0; l < 32; ++l) visit(chunk * 64 + 32 + l, d1 * (q[l] >> 4) - min1);
    q += 32;
  }
}

// Q6_K super-block of 256: 128 bytes of low nibbles, 64 bytes of high 2-bit pairs, 16 int8
// scales, f16 d. Each 128 elements: 64 bytes of ql, 32 of qh, 8 scales; value d * scale * (q - 32).
template <typename Visit>
void q6_k_block(const uint8_t* block, Visit&& visit) {
  const uint8_t* ql = block;
  const uint8_t* qh = block + 128;
  const int8_t* sc = reinterpret_cast<const int8_t*>(block + 192);
  const float d = load_f16(block + 208);
  for (int half = 0; half < 2; ++half) {
    const int base = half * 128;
    for (int l = 0; l < 32; ++l) {
      const int is = l / 16;
      const int q1 = ((ql[l] & 0xf) | (((qh[l] >> 0) & 3) << 4)) - 32;
      const int q2 = ((ql[l + 32] & 0xf) | (((qh[l] >> 2) & 3) << 4)) - 32;
      const int q3 = ((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
      const int q4 = ((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
      visit(base + l, d * sc[is] * q1);
      visit(base + l + 32, d * sc[is + 2] * q2);
      visit(base + l + 64, d * sc[is + 4] * q3);
      visit(base + l + 96, d * sc[is + 6] * q4);
    }
    ql += 64;
    qh += 32;
    sc += 8;
  }
}

[[noreturn]] void unsupported(TensorType type) {
  throw std::logic_error("kernels: no kernel for tensor type " + tensor_type_name(static_cast<uint32_t>(type)));
}

}  // namespace

bool kernels_support(TensorType type) {
  switch (type) {
    case TensorType::f32: case TensorType::f16: case TensorType::bf16: case TensorType::q8_0:
    case TensorType::q4_0: case TensorType::q4_k: case TensorType::q6_k: return true;
    default: return false;
  }
}

float dot_row(TensorType type, const uint8_t* row, const float* x, size_t n) {
  float sum = 0;
  switch (type) {
    case TensorType::f32: {
      for (size_t i = 0; i < n; ++i) {
        float w;
        std::memcpy(&w, row + 4 * i, 4);
        sum += w * x[i];
      }
      return sum;
    }
    case TensorType::f16:
      for (size_t i = 0; i < n; ++i) sum += load_f16(row + 2 * i) * x[i];
      return sum;
    case TensorType::bf16:
      for (size_t i = 0; i < n; ++i) sum += bf16_to_f32(load_u16(row + 2 * i)) * x[i];
      return sum;
    case TensorType::q8_0:
      for (size_t b = 0; b < n / 32; ++b) {
        const uint8_t* block = row + b * kQ8_0Bytes;
        const int8_t* q = reinterpret_cast<const int8_t*>(block + 2);
        const float* xb = x + b * 32;
        float block_sum = 0;
        for (int i = 0; i < 32; ++i) block_sum += q[i] * xb[i];
        sum += load_f16(block) * block_sum;
      }
      return sum;
    case TensorType::q4_0:
      for (size_t b = 0; b < n / 32; ++b) {
        const uint8_t* block = row + b * kQ4_0Bytes;
        const uint8_t* q = block + 2;
        const float* xb = x + b * 32;
        float block_sum = 0;
        for (int i = 0; i < 16; ++i)
          block_sum += ((q[i] & 0xf) - 8) * xb[i] + ((q[i] >> 4) - 8) * xb[i + 16];
        sum += load_f16(block) * block_sum;
      }
      return sum;
    case TensorType::q4_k:
      for (size_t b = 0; b < n / 256; ++b) {
        const float* xb = x + b * 256;
        q4_k_block(row + b * kQ4_KBytes, [&](int i, float w) { sum += w * xb[i]; });
      }
      return sum;
    case TensorType::q6_k:
      for (size_t b = 0; b < n / 256; ++b) {
        const float* xb = x + b * 256;
        q6_k_block(row + b * kQ6_KBytes, [&](int i, float w) { sum += w * xb[i]; });
      }
      return sum;
    default:
      unsupported(type);
  }
}

void dequantize_row(TensorType type, const uint8_t* row, float* out, size_t n) {
  switch (type) {
    case TensorType::f32: std::memcpy(out, row, 4 * n); return;
    case TensorType::f16:
      for (size_t i = 0; i < n; ++i) out[i] = load_f16(row + 2 * i);
      return;
    case TensorType::bf16:
      for (size_t i = 0; i < n; ++i) out[i] = bf16_to_f32(load_u16(row + 2 * i));
      return;
    case TensorType::q8_0:
      for (size_t b = 0; b < n / 32; ++b) {
        const uint8_t* block = row + b * kQ8_0Bytes;
        const float d = load_f16(block);
        for (int i = 0; i < 32; ++i) out[b * 32 + i] = d * reinterpret_cast<const int8_t*>(block + 2)[i];
      }
      return;
    case TensorType::q4_0:
      for (size_t b = 0; b < n / 32; ++b) {
        const uint8_t* block = row + b * kQ4_0Bytes;
        const float d = load_f16(block);
        for (int i = 0; i < 16; ++i) {
          out[b * 32 + i] = d * ((block[2 + i] & 0xf) - 8);
          out[b * 32 + i + 16] = d * ((block[2 + i] >> 4) - 8);
        }
      }
      return;
    case TensorType::q4_k:
      for (size_t b = 0; b < n / 256; ++b)
        q4_k_block(row + b * kQ4_KBytes, [&](int i, float w) { out[b * 256 + i] = w; });
      return;
    case TensorType::q6_k:
      for (size_t b = 0; b < n / 256; ++b)
        q6_k_block(row + b * kQ6_KBytes, [&](int i, float w) { out[b * 256 + i] = w; });
      return;
    default:
      unsupported(type);
  }
}

void matvec(const Matrix& w, const float* x, float* out) {
  for (uint64_t r = 0; r < w.rows; ++r) out[r] = dot_row(w.type, w.row(r), x, w.cols);
}

void rmsnorm(float* out, const float* x, const float* weight, size_t n, float eps) {
  float ss = 0;
  for (size_t i = 0; i < n; ++i) ss += x[i] * x[i];
  const float scale = 1.0f / std::sqrt(ss / static_cast<float>(n) + eps);
  for (size_t i = 0; i < n; ++i) out[i] = weight[i] * (scale * x[i]);
}

void rope_adjacent_pairs(float* head, size_t head_dim, size_t rot_dims, int pos, float theta) {
  rot_dims = std::min(rot_dims, head_dim);
  for (size_t i = 0; i + 1 < rot_dims; i += 2) {
    const float freq = 1.0f / std::pow(theta, static_cast<float>(i) / static_cast<float>(rot_dims));
    const float angle = static_cast<float>(pos) * freq;
    const float c = std::cos(angle), s = std::sin(angle);
    const float a = head[i], b = head[i + 1];
    head[i] = a * c - b * s;
    head[i + 1] = a * s + b * c;
  }
}

void softmax(float* x, size_t n) {
  if (n == 0) return;
  const float max = *std::max_element(x, x + n);
  float sum = 0;
  for (size_t i = 0; i < n; ++i) {
    x[i] = std::exp(x[i] - max);
    sum += x[i];
  }
  for (size_t i = 0; i < n; ++i) x[i] /= sum;
}

void swiglu(float* gate, const float* up, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    const float g = gate[i];
    gate[i] = g / (1.0f + std::exp(-g)) * up[i];
  }
}

void attention_head(const float* q, const float* keys, const float* values, size_t stride,
                    size_t head_dim, int pos, float* scores, float* out) {
  const float scale = 1.0f / std::sqrt(static_cast<float>(head_dim));
  for (int t = 0; t <= pos; ++t) {
    const float* k = keys + static_cast<size_t>(t) * stride;
    float s = 0;
    for (size_t i = 0; i < head_dim; ++i) s += q[i] * k[i];
    scores[t] = s * scale;
  }
  softmax(scores, static_cast<size_t>(pos) + 1);
  std::fill(out, out + head_dim, 0.0f);
  for (int t = 0; t <= pos; ++t) {
    const float* v = values + static_cast<size_t>(t) * stride;
    const float a = scores[t];
    for (size_t i = 0; i < head_dim; ++i) out[i] += a * v[i];
  }
}

}  // namespace swebox::model
