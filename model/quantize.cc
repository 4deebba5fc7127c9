#include "model/quantize.h"

#include "model/byte_io.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <stdexcept>

#include "model/half.h"

namespace swebox::model {

namespace {

template <typename T>
void put(std::string& out, T v) {
  append_le<T>(out, v);
}
void put_f16(std::string& out, float v) { put<uint16_t>(out, f32_to_f16(v)); }
float amax_of(const float* x, size_t n) {
  float m = 0;
  for (size_t i = 0; i < n; ++i) m = std::max(m, std::fabs(x[i]));
  return m;
}

void q8_0_block(std::string& out, const float* x) {
  const float d = amax_of(x, 32) / 127;
  const float id = d ? 1 / d : 0;
  put_f16(out, d);
  for (int i = 0; i < 32; ++i) put<int8_t>(out, static_cast<int8_t>(std::lround(x[i] * id)));
}

void q4_0_block(std::string& out, const float* x) {
  float max = 0;  // the value of largest magnitude, with its sign: it maps to -8
  for (int i = 0; i < 32; ++i)
    if (std::fabs(x[i]) > std::fabs(max)) max = x[i];
  const float d = max / -8;
  const float id = d ? 1 / d : 0;
  put_f16(out, d);
  uint8_t q[32];
  for (int i = 0; i < 32; ++i) q[i] = static_cast<uint8_t>(std::clamp<int>(static_cast<int>(x[i] * id + 8.5f), 0, 15));
  for (int i = 0; i < 16; ++i) put<uint8_t>(out, static_cast<uint8_t>(q[i] | (q[i + 16] << 4)));
}

// Q4_K: per sub-block of 32 a scale and a minimum (value = scale * q - min, q in 0..15), both
// stored as 6-bit multiples of the block's d and dmin.
void q4_k_block(std::string& out, const float* x) {
  float scale[8], min[8];
  for (int j = 0; j < 8; ++j) {
    const float* s = x + 32 * j;
    const float lo = std::min(0.0f, *std::min_element(s, s + 32));
    const float hi = *std::max_element(s, s + 32);
    scale[j] = (hi - lo) / 15;
    min[j] = -lo;
  }
  const float d = *std::max_element(scale, scale + 8) / 63;
  const float dmin = *std::max_element(min, min + 8) / 63;
  uint8_t ls[8], lm[8];
  for (int j = 0; j < 8; ++j) {
    ls[j] = static_cast<uint8_t>(d ? std::min(63L, std::lround(scale[j] / d)) : 0);
    lm[j] = static_cast<uint8_t>(dmin ? std::min(63L, std::lround(min[j] / dmin)) : 0);
  }
  const float d_stored = f16_to_f32(f32_to_f16(d)), dmin_stored = f16_to_f32(f32_to_f16(dmin));
  put_f16(out, d);
  put_f16(out, dmin);
  uint8_t packed[12];
  for (int j = 0; j < 4; ++j) {
    packed[j] = static_cast<uint8_t>(ls[j] | ((ls[j + 4] >> 4) << 6));
    packed[j + 4] = static_cast<uint8_t>(lm[j] | ((lm[j + 4] >> 4) << 6));
    packed[j + 8] = static_cast<uint8_t>((ls[j + 4] & 0xf) | ((lm[j + 4] & 0xf) << 4));
  }
  out.append(reinterpret_cast<const char*>(packed), 12);
  uint8_t q[256];
  for (int i = 0; i < 256; ++i) {
    const int j = i / 32;
    const float step = d_stored * ls[j];
    q[i] = static_cast<uint8_t>(step ? std::clamp<long>(std::lround((x[i] + dmin_stored * lm[j]) / step), 0, 15) : 0);
  }
  for (int chunk = 0; chunk < 4; ++chunk)
    for (int l = 0; l < 32; ++l) put<uint8_t>(out, static_cast<uint8_t>(q[64 * chunk + l] | (q[64 * chunk + 32 + l] << 4)));
}

// Q6_K: per sub-block of 16 an int8 scale (a multiple of d), values scale * (q - 32), q in 0..63.
void q6_k_block(std::string& out, const float* x) {
  float scale[16];
  for (int j = 0; j < 16; ++j) scale[j] = amax_of(x + 16 * j, 16) / 31;
  const float d = *std::max_element(scale, scale + 16) / 127;
  const float d_stored = f16_to_f32(f32_to_f16(d));
  int8_t sc[16];
  for (int j = 0; j < 16; ++j) sc[j] = static_cast<int8_t>(d ? std::min(127L, std::lround(scale[j] / d)) : 0);
  uint8_t q[256];
  for (int i = 0; i < 256; ++i) {
    const float step = d_stored * sc[i / 16];
    q[i] = static_cast<uint8_t>(step ? std::clamp<long>(std::lround(x[i] / step), -32, 31) + 32 : 32);
  }
  uint8_t ql[128] = {}, qh[64] = {};
  for (int half = 0; half < 2; ++half) {
    const uint8_t* h = q + 128 * half;
    uint8_t* l_out = ql + 64 * half;
    uint8_t* h_out = qh + 32 * half;
    for (int l = 0; l < 32; ++l) {
      l_out[l] = static_cast<uint8_t>((h[l] & 0xf) | ((h[l + 64] & 0xf) << 4));
      l_out[l + 32] = static_cast<uint8_t>((h[l + 32] & 0xf) | ((h[l + 96] & 0xf) << 4));
      h_out[l] = static_cast<uint8_t>((h[l] >> 4) | ((h[l + 32] >> 4) << 2) | ((h[l + 64] >> 4) << 4) | ((h[l + 96] >> 4) << 6));
    }
  }
  out.append(reinterpret_cast<const char*>(ql), 128);
  out.append(reinterpret_cast<const char*>(qh), 64);
  out.append(reinterpret_cast<const char*>(sc), 16);
  put_f16(out, d);
}

}  // namespace

std::string quantize_row(TensorType type, const float* x, size_t n) {
  const auto traits = tensor_type_traits(static_cast<uint32_t>(type));
  if (!traits || n % traits->block_elements != 0)
    throw std::invalid_argument("quantize_row: " + std::to_string(n) + " elements do not fill whole " +
                                tensor_type_name(static_cast<uint32_t>(type)) + " blocks");
  std::string out;
  out.reserve(n / traits->block_elements * traits->block_bytes);
  switch (type) {
    case TensorType::f32: out.append(reinterpret_cast<const char*>(x), 4 * n); break;
    case TensorType::f16: for (size_t i = 0; i < n; ++i) put<uint16_t>(out, f32_to_f16(x[i])); break;
    case TensorType::bf16: for (size_t i = 0; i < n; ++i) put<uint16_t>(out, f32_to_bf16(x[i])); break;
    case TensorType::q8_0: for (size_t b = 0; b < n / 32; ++b) q8_0_block(out, x + 32 * b); break;
    case TensorType::q4_0: for (size_t b = 0; b < n / 32; ++b) q4_0_block(out, x + 32 * b); break;
    case TensorType::q4_k: for (size_t b = 0; b < n / 256; ++b) q4_k_block(out, x + 256 * b); break;
    case TensorType::q6_k: for (size_t b = 0; b < n / 256; ++b) q6_k_block(out, x + 256 * b); break;
    default:
      throw std::invalid_argument("quantize_row: cannot write " + tensor_type_name(static_cast<uint32_t>(type)));
  }
  return out;
}

}  // namespace swebox::model
