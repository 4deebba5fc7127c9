#include "model/sampler.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

namespace swebox::model {

namespace {
// splitmix64: a small generator with a full 64-bit period whose every seed (0 included) is good.
uint64_t splitmix64(uint64_t& state) {
  uint64_t z = (state += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}
}  // namespace

Sampler::Sampler(SamplingParams params) : params_(params), state_(params.seed) {
  if (!(params.temperature >= 0) || !std::isfinite(params.temperature))
    throw std::invalid_argument("temperature " + std::to_string(params.temperature) + " must be 0 or more");
  if (params.top_k < 0) throw std::invalid_argument("top-k " + std::to_string(params.top_k) + " must be 0 or more");
  if (!(params.top_p > 0 && params.top_p <= 1))
    throw std::invalid_argument("top-p " + std::to_string(params.top_p) + " must be in (0, 1]");
}

double Sampler::next_uniform() { return static_cast<double>(splitmix64(state_) >> 11) * 0x1.0p-53; }

float token_logprob(std::span<const float> logits, int id) {
  const float max = *std::max_element(logits.begin(), logits.end());
  double sum = 0;
  for (float l : logits) sum += std::exp(static_cast<double>(l - max));
  return static_cast<float>(static_cast<double>(logits[id] - max) - std::log(sum));
}

SampledToken Sampler::sample(std::span<const float> logits) {
  if (logits.empty()) throw std::invalid_argument("sampling from an empty vocabulary");
  int chosen;
  if (params_.temperature == 0.0f) {
    chosen = static_cast<int>(std::max_element(logits.begin(), logits.end()) - logits.begin());
  } else {
    // Candidates by descending logit (ties: lower id first), cut to top-k.
    candidates_.clear();
    for (size_t i = 0; i < logits.size(); ++i) candidates_.emplace_back(logits[i], static_cast<int>(i));
    auto by_logit = [](const auto& a, const auto& b) { return a.first > b.first || (a.first == b.first && a.second < b.second); };
    size_t keep = candidates_.size();
    if (params_.top_k > 0 && static_cast<size_t>(params_.top_k) < keep) {
      keep = params_.top_k;
      std::partial_sort(candidates_.begin(), candidates_.begin() + keep, candidates_.end(), by_logit);
      candidates_.resize(keep);
    } else {
      std::sort(candidates_.begin(), candidates_.end(), by_logit);
    }
    // Probabilities at the temperature, over the candidates.
    const float max = candidates_.front().first;
    double total = 0;
    for (auto& [value, id] : candidates_) {
      value = static_cast<float>(std::exp(static_cast<double>(value - max) / params_.temperature));
      total += value;
    }
    // Top-p: the shortest prefix whose mass reaches top_p.
    if (params_.top_p < 1.0f) {
      double mass = 0;
      size_t n = 0;
      while (n < candidates_.size()) {
        mass += candidates_[n].first / total;
        ++n;
        if (mass >= params_.top_p) break;
      }
      candidates_.resize(n);
      total = 0;
      for (const auto& c : candidates_) total += c.first;
    }
    const double coin = next_uniform() * total;
    double cumulative = 0;
    chosen = candidates_.back().second;  // rounding can leave coin just above the last sum
    for (const auto& [p, id] : candidates_) {
      cumulative += p;
      if (coin < cumulative) {
        chosen = id;
        break;
      }
    }
  }
  return {chosen, token_logprob(logits, chosen)};
}

}  // namespace swebox::model
