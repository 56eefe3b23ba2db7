// Random kernel inputs shared by iro_native_tests and iro_cuda_check (deterministic given a seed).
#pragma once
#include <cstdint>
#include <random>
#include <vector>

#include "native/kernels/value_score.h"
#include "native/value/net_view.h"

namespace iro::test {

// Owns the parameter buffers of one random value net.
struct RandomNet {
  ValueNetDims dims;
  std::vector<float> E, P, b0, W1, b1, w2;
  float b2 = 0.0f;
  RandomNet(ValueNetDims d, std::mt19937& rng) : dims(d) {
    std::normal_distribution<float> n(0.0f, 0.5f);
    auto fill = [&](std::vector<float>& v, size_t k) {
      v.resize(k);
      for (auto& x : v) x = n(rng);
    };
    fill(E, static_cast<size_t>(d.n_buckets) * d.d);
    fill(P, static_cast<size_t>(d.d_dense) * d.d);
    fill(b0, d.d);
    fill(W1, static_cast<size_t>(d.hidden) * d.d);
    fill(b1, d.hidden);
    fill(w2, d.hidden);
    b2 = n(rng);
  }
  ValueNetView view() const { return value_net_view(*this); }
};

struct RandomFeatures {
  std::vector<int32_t> offsets;
  std::vector<uint32_t> ids;
  std::vector<float> weights, dense;
  int32_t d_dense = 0;
  RandomFeatures(int32_t n_states, int32_t max_ids, int32_t d_dense_, bool with_weights, std::mt19937& rng) : d_dense(d_dense_) {
    std::uniform_int_distribution<int32_t> count(0, max_ids);
    std::normal_distribution<float> n(0.0f, 1.0f);
    offsets.push_back(0);
    for (int32_t s = 0; s < n_states; ++s) {
      const int32_t c = count(rng);
      for (int32_t j = 0; j < c; ++j) {
        ids.push_back(static_cast<uint32_t>(rng()));
        if (with_weights) weights.push_back(n(rng));
      }
      offsets.push_back(static_cast<int32_t>(ids.size()));
    }
    dense.resize(static_cast<size_t>(n_states) * d_dense);
    for (auto& x : dense) x = n(rng);
  }
  SparseFeatures view() const {
    SparseFeatures x;
    x.n_states = static_cast<int32_t>(offsets.size()) - 1;
    x.offsets = offsets.data();
    x.ids = ids.data();
    x.weights = weights.empty() ? nullptr : weights.data();
    x.dense = d_dense > 0 ? dense.data() : nullptr;
    x.d_dense = d_dense;
    return x;
  }
};

// Scores with ties (drawn from a small grid) and a few -inf per segment (never a whole segment).
inline std::vector<float> random_scores(const std::vector<int32_t>& offsets, std::mt19937& rng, bool ties, bool neg_inf) {
  std::vector<float> s(static_cast<size_t>(offsets.back()));
  std::normal_distribution<float> n(0.0f, 2.0f);
  std::uniform_int_distribution<int> grid(-3, 3), coin(0, 9);
  for (size_t s_i = 0; s_i + 1 < offsets.size(); ++s_i) {
    for (int32_t j = offsets[s_i]; j < offsets[s_i + 1]; ++j) {
      s[j] = ties ? static_cast<float>(grid(rng)) * 0.5f : n(rng);
      if (neg_inf && j > offsets[s_i] && coin(rng) == 0) s[j] = -INFINITY;
    }
  }
  return s;
}

}  // namespace iro::test
