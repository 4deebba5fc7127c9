#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <random>

#include "model/half.h"
#include "model/kernels.h"
#include "model/quantize.h"
#include "model/sampler.h"

using namespace swebox::model;

namespace {

std::vector<float> gaussian(size_t n, uint64_t seed, float scale = 1.0f) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> normal(0.0f, scale);
  std::vector<float> v(n);
  for (float& x : v) x = normal(rng);
  return v;
}

const uint8_t* bytes(const std::string& s) { return reinterpret_cast<const uint8_t*>(s.data()); }

}  // namespace

TEST_CASE("F16 and BF16 conversions are exact where the value fits, round to nearest even otherwise") {
  for (uint32_t h = 0; h < 0x10000; ++h) {
    const float f = f16_to_f32(static_cast<uint16_t>(h));
    if (std::isnan(f)) continue;
    INFO("half 0x" << std::hex << h);
    REQUIRE(f32_to_f16(f) == h);
  }
  CHECK(f32_to_f16(1.0f) == 0x3c00);
  CHECK(f32_to_f16(-2.0f) == 0xc000);
  CHECK(f32_to_f16(65504.0f) == 0x7bff);
  CHECK(f32_to_f16(65520.0f) == 0x7c00);            // rounds up to infinity
  CHECK(f32_to_f16(std::ldexp(1.0f, -24)) == 0x0001);  // the smallest subnormal
  CHECK(f32_to_f16(std::ldexp(1.0f, -25)) == 0x0000);  // half of it: ties to even (0)
  CHECK(f32_to_f16(0.1f) == 0x2e66);
  CHECK(f16_to_f32(0x3555) == doctest::Approx(0.33325195f).epsilon(1e-7));
  CHECK(f32_to_bf16(1.0f) == 0x3f80);
  CHECK(bf16_to_f32(0x4049) == 3.140625f);
  CHECK(f32_to_bf16(3.14159265f) == 0x4049);
  CHECK(std::isnan(bf16_to_f32(f32_to_bf16(std::nanf("")))));
}

TEST_CASE("Q8_0 and Q4_0 blocks decode as ggml lays them out") {
  // Q8_0: f16 scale 0.5, then int8 quants.
  std::string q8(34, '\0');
  const uint16_t half = f32_to_f16(0.5f);
  std::memcpy(q8.data(), &half, 2);
  q8[2] = 4;
  q8[3] = static_cast<char>(-6);
  q8[33] = 127;
  float out[32];
  dequantize_row(TensorType::q8_0, bytes(q8), out, 32);
  CHECK(out[0] == 2.0f);
  CHECK(out[1] == -3.0f);
  CHECK(out[31] == 63.5f);
  // Q4_0: f16 scale 2, byte j holds element j (low nibble) and element j + 16 (high), offset 8.
  std::string q4(18, '\x88');  // every element 8 - 8 = 0
  const uint16_t two = f32_to_f16(2.0f);
  std::memcpy(q4.data(), &two, 2);
  q4[2] = 0x1f;  // element 0: 15 - 8 = 7, element 16: 1 - 8 = -7
  dequantize_row(TensorType::q4_0, bytes(q4), out, 32);
  CHECK(out[0] == 14.0f);
  CHECK(out[16] == -14.0f);
  CHECK(out[1] == 0.0f);
}

TEST_CASE("every weight type: quantized rows decode close to the input, and the dot product equals that of the decoded row") {
  struct Case {
    TensorType type;
    float tolerance;  // of the largest magnitude in the row
  };
  for (Case c : {Case{TensorType::f32, 0}, Case{TensorType::f16, 1e-3f}, Case{TensorType::bf16, 8e-3f},
                 Case{TensorType::q8_0, 0.01f}, Case{TensorType::q4_0, 0.1f}, Case{TensorType::q4_k, 0.1f},
                 Case{TensorType::q6_k, 0.04f}}) {
    CAPTURE(tensor_type_name(static_cast<uint32_t>(c.type)));
    const size_t n = 512;
    const std::vector<float> row = gaussian(n, 7, 0.3f), x = gaussian(n, 8);
    const std::string q = quantize_row(c.type, row.data(), n);
    const auto traits = tensor_type_traits(static_cast<uint32_t>(c.type));
    REQUIRE(q.size() == n / traits->block_elements * traits->block_bytes);
    std::vector<float> decoded(n);
    dequantize_row(c.type, bytes(q), decoded.data(), n);
    float amax = 0, worst = 0;
    double reference = 0, exact = 0;
    for (size_t i = 0; i < n; ++i) {
      amax = std::max(amax, std::fabs(row[i]));
      worst = std::max(worst, std::fabs(decoded[i] - row[i]));
      reference += static_cast<double>(decoded[i]) * x[i];
      exact += static_cast<double>(row[i]) * x[i];
    }
    CHECK(worst <= c.tolerance * amax);
    const float dot = dot_row(c.type, bytes(q), x.data(), n);
    CHECK(dot == doctest::Approx(reference).epsilon(1e-4));
    CHECK(dot == doctest::Approx(exact).epsilon(c.tolerance * 4 + 1e-6));
    Matrix m{c.type, 2, n / 2, q.size() / 2, bytes(q)};  // the row read as two rows of n / 2
    float out2[2];
    matvec(m, x.data(), out2);
    double first = 0, second = 0;
    for (size_t i = 0; i < n / 2; ++i) {
      first += static_cast<double>(decoded[i]) * x[i];
      second += static_cast<double>(decoded[n / 2 + i]) * x[i];
    }
    CHECK(out2[0] == doctest::Approx(first).epsilon(1e-4));
    CHECK(out2[1] == doctest::Approx(second).epsilon(1e-4));
  }
  CHECK_THROWS_AS(quantize_row(TensorType::q8_0, nullptr, 33), std::invalid_argument);
}

TEST_CASE("rmsnorm, softmax, SwiGLU and RoPE compute what their definitions say") {
  const float x[4] = {1, -2, 3, -4}, w[4] = {1, 1, 2, 0.5f};
  float out[4];
  rmsnorm(out, x, w, 4, 0.0f);
  const float rms = std::sqrt((1 + 4 + 9 + 16) / 4.0f);
  CHECK(out[2] == doctest::Approx(2 * 3 / rms));
  float s[3] = {1000, 1000, 1000 + std::log(2.0f)};  // large values stay finite
  softmax(s, 3);
  CHECK(s[2] == doctest::Approx(0.5f));
  CHECK(s[0] == doctest::Approx(0.25f));
  float gate[2] = {0, 2}, up[2] = {5, 3};
  swiglu(gate, up, 2);
  CHECK(gate[0] == 0.0f);
  CHECK(gate[1] == doctest::Approx(2 / (1 + std::exp(-2.0f)) * 3));
  // Position 0 leaves a head unchanged; pair i rotates by pos * theta^(-2i/d), norms kept.
  float head[4] = {1, 0, 1, 0};
  rope_adjacent_pairs(head, 4, 4, 0, 10000);
  CHECK(head[0] == 1.0f);
  rope_adjacent_pairs(head, 4, 4, 3, 10000);
  CHECK(head[0] == doctest::Approx(std::cos(3.0f)));
  CHECK(head[1] == doctest::Approx(std::sin(3.0f)));
  CHECK(head[2] == doctest::Approx(std::cos(3.0f / 100)));
  CHECK(head[3] == doctest::Approx(std::sin(3.0f / 100)));
}

TEST_CASE("attention over the cache weighs each position's value by softmax of q.k over sqrt(d)") {
  // Two positions, head size 2, stride 4 (another head's values between).
  const float q[2] = {1, 0};
  const float keys[8] = {0, 0, 9, 9, 2, 0, 9, 9};
  const float values[8] = {1, 0, 9, 9, 0, 1, 9, 9};
  float scores[2], out[2];
  attention_head(q, keys, values, 4, 2, 1, scores, out);
  const float a1 = 1 / (1 + std::exp(-2 / std::sqrt(2.0f)));
  CHECK(out[1] == doctest::Approx(a1));
  CHECK(out[0] == doctest::Approx(1 - a1));
  attention_head(q, keys, values, 4, 2, 0, scores, out);  // position 0 sees only itself
  CHECK(out[0] == 1.0f);
}

TEST_CASE("sampling: greedy takes the first maximum, a seed repeats, frequencies follow the softmax, top-k and top-p cut the tail") {
  const std::vector<float> logits = {1.0f, 3.0f, 3.0f, 0.0f};
  Sampler greedy({});
  SampledToken t = greedy.sample(logits);
  CHECK(t.id == 1);
  CHECK(t.logprob == doctest::Approx(token_logprob(logits, 1)));
  const double z = std::exp(1.0) + 2 * std::exp(3.0) + 1;
  CHECK(t.logprob == doctest::Approx(3.0 - std::log(z)));

  std::vector<int> counts(4);
  Sampler warm({.temperature = 1.0f, .seed = 42});
  const int n = 40000;
  for (int i = 0; i < n; ++i) ++counts[warm.sample(logits).id];
  for (int id = 0; id < 4; ++id) {
    CAPTURE(id);
    CHECK(counts[id] / double(n) == doctest::Approx(std::exp(logits[id]) / z).epsilon(0.05));
  }
  Sampler a({.temperature = 0.8f, .seed = 5}), b({.temperature = 0.8f, .seed = 5}), c({.temperature = 0.8f, .seed = 6});
  std::vector<int> sa, sb, sc;
  for (int i = 0; i < 64; ++i) {
    sa.push_back(a.sample(logits).id);
    sb.push_back(b.sample(logits).id);
    sc.push_back(c.sample(logits).id);
  }
  CHECK(sa == sb);
  CHECK(sa != sc);

  Sampler top1({.temperature = 5.0f, .top_k = 1, .seed = 1});
  Sampler nucleus({.temperature = 1.0f, .top_p = 0.8f, .seed = 1});  // ids 1 and 2 hold 0.87
  for (int i = 0; i < 500; ++i) {
    CHECK(top1.sample(logits).id == 1);
    const int id = nucleus.sample(logits).id;
    CHECK((id == 1 || id == 2));
  }
  CHECK_THROWS_AS(Sampler({.temperature = -1.0f}), std::invalid_argument);
  CHECK_THROWS_AS(Sampler({.top_p = 0.0f}), std::invalid_argument);
  CHECK_THROWS_AS(Sampler({.top_k = -2}), std::invalid_argument);
}
