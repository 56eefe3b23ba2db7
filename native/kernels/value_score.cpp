#include "native/kernels/value_score.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "native/common/error.h"
#include "native/common/threads.h"

namespace iro {

void validate_score_inputs(const SparseFeatures& x, const ValueNetView* nets, int32_t n_nets, const float* betas) {
  IRO_REQUIRE_ARG(x.n_states >= 0, "n_states must be >= 0, got " + std::to_string(x.n_states));
  IRO_REQUIRE_ARG(x.d_dense >= 0, "dense width must be >= 0, got " + std::to_string(x.d_dense));
  IRO_REQUIRE_ARG(x.d_dense == 0 || x.dense != nullptr, "dense width is " + std::to_string(x.d_dense) + " but no dense rows were given");
  if (x.n_states > 0) {
    IRO_REQUIRE_ARG(x.offsets != nullptr, "feature offsets are required (n_states + 1 entries)");
    IRO_REQUIRE_ARG(x.offsets[0] >= 0, "feature offsets[0] must be >= 0, got " + std::to_string(x.offsets[0]));
    for (int32_t s = 0; s < x.n_states; ++s) {
      IRO_REQUIRE_ARG(x.offsets[s + 1] >= x.offsets[s], "feature offsets must be non-decreasing (offsets[" + std::to_string(s + 1) + "] = " +
                                                            std::to_string(x.offsets[s + 1]) + " < offsets[" + std::to_string(s) +
                                                            "] = " + std::to_string(x.offsets[s]) + ")");
    }
    IRO_REQUIRE_ARG(x.offsets[x.n_states] == x.offsets[0] || x.ids != nullptr, "feature ids are required when states have features");
  }
  IRO_REQUIRE_ARG(n_nets >= 0, "number of value nets must be >= 0, got " + std::to_string(n_nets));
  if (n_nets == 0) return;
  IRO_REQUIRE_ARG(nets != nullptr, "value nets are required");
  IRO_REQUIRE_ARG(betas != nullptr, "betas are required (one per value net)");
  for (int32_t m = 0; m < n_nets; ++m) {
    const ValueNetView& n = nets[m];
    const std::string which = "value net " + std::to_string(m);
    IRO_REQUIRE_ARG(n.dims.n_buckets > 0 && n.dims.d > 0 && n.dims.hidden > 0 && n.dims.d_dense >= 0,
                which + " has invalid dims (n_buckets, d, hidden must be > 0, d_dense >= 0)");
    IRO_REQUIRE_ARG(n.E && n.b0 && n.W1 && n.b1 && n.w2, which + " is missing a parameter buffer");
    IRO_REQUIRE_ARG(n.dims.d_dense == 0 || n.P != nullptr, which + " has d_dense > 0 but no projection P");
    IRO_REQUIRE_ARG(std::isfinite(betas[m]) && betas[m] > 0.0f, "beta " + std::to_string(m) + " must be finite and > 0, got " + std::to_string(betas[m]));
    if (n.dims.d_dense > 0) {
      IRO_REQUIRE_ARG(x.dense != nullptr, which + " expects dense rows of width " + std::to_string(n.dims.d_dense) + " but none were given");
      IRO_REQUIRE_ARG(x.d_dense == n.dims.d_dense, which + " expects dense rows of width " + std::to_string(n.dims.d_dense) + ", got " +
                                                   std::to_string(x.d_dense));
    }
  }
}

namespace {

// One net prepared for the state loop: W1 transposed so that the hidden layer is a sum of scaled
// contiguous rows (vectorisable without reassociation, same per-element order as the contract).
struct PreparedNet {
  const ValueNetView* net;
  std::vector<float> W1T;  // [d x hidden]
};

// Prefetches the embedding row of id j (all its cache lines) into L2: rows are used once, and L2
// tracks more misses in flight than L1 (measured: 24 rows ahead into L2 beat 12 into L1 by 15-25%).
inline void prefetch_row(const ValueNetView& n, const SparseFeatures& x, int32_t j) {
  const float* row = n.E + static_cast<size_t>(x.ids[j] % static_cast<uint32_t>(n.dims.n_buckets)) * static_cast<size_t>(n.dims.d);
  for (int32_t t = 0; t < n.dims.d; t += 16) __builtin_prefetch(row + t, 0, 2);
}

// Scores states [s0, s1) with one net into v[s - s0]. The embedding rows are random reads from a
// table of hundreds of megabytes, so the row of the id kAhead positions further along the CSR
// stream (across state boundaries) is prefetched while the current one is summed: a steady stream
// of misses in flight instead of a burst at the start of every state.
// Cloned for AVX2 (selected at load time): same float ops in the same order, no FMA (AVX2 alone does
// not enable FMA contraction), so both clones give identical results.
__attribute__((target_clones("avx2", "default"))) void score_range(const PreparedNet& pn, const SparseFeatures& x, int32_t s0, int32_t s1,
                                                                   float* __restrict a, float* __restrict h, float* __restrict v) {
  constexpr int32_t kAhead = 24;
  const ValueNetView& n = *pn.net;
  const int32_t d = n.dims.d, hidden = n.dims.hidden;
  const uint32_t nb = static_cast<uint32_t>(n.dims.n_buckets);
  const int32_t j_end = x.offsets[s1];
  int32_t jp = x.offsets[s0];  // next id to prefetch
  for (; jp < std::min(j_end, x.offsets[s0] + kAhead); ++jp) prefetch_row(n, x, jp);
  for (int32_t s = s0; s < s1; ++s) {
    for (int32_t t = 0; t < d; ++t) a[t] = n.b0[t];
    const int32_t j0 = x.offsets[s], j1 = x.offsets[s + 1];
    for (int32_t j = j0; j < j1; ++j) {
      if (jp < j_end) prefetch_row(n, x, jp++);
      const float* __restrict row = n.E + static_cast<size_t>(x.ids[j] % nb) * static_cast<size_t>(d);
      if (x.weights) {
        const float w = x.weights[j];
        for (int32_t t = 0; t < d; ++t) a[t] += w * row[t];
      } else {
        for (int32_t t = 0; t < d; ++t) a[t] += row[t];
      }
    }
    if (n.dims.d_dense > 0) {
      const float* xr = x.dense + static_cast<size_t>(s) * static_cast<size_t>(x.d_dense);
      for (int32_t q = 0; q < n.dims.d_dense; ++q) {
        const float xq = xr[q];
        const float* __restrict prow = n.P + static_cast<size_t>(q) * static_cast<size_t>(d);
        for (int32_t t = 0; t < d; ++t) a[t] += xq * prow[t];
      }
    }
    for (int32_t u = 0; u < hidden; ++u) h[u] = n.b1[u];
    const float* __restrict wt = pn.W1T.data();
    for (int32_t t = 0; t < d; ++t) {
      const float at = a[t];
      const float* __restrict col = wt + static_cast<size_t>(t) * static_cast<size_t>(hidden);
      for (int32_t u = 0; u < hidden; ++u) h[u] += col[u] * at;
    }
    float val = n.b2;
    for (int32_t u = 0; u < hidden; ++u) {
      const float hu = h[u] > 0.0f ? h[u] : 0.0f;
      val += n.w2[u] * hu;
    }
    v[s - s0] = val;
  }
}

}  // namespace

void score_values(const SparseFeatures& x, const ValueNetView* nets, int32_t n_nets, const float* betas, float* values,
                  float* combined, int threads) {
  validate_score_inputs(x, nets, n_nets, betas);
  if (x.n_states == 0) return;
  std::vector<PreparedNet> prepared(static_cast<size_t>(n_nets));
  int32_t max_d = 1, max_h = 1;
  for (int32_t m = 0; m < n_nets; ++m) {
    const ValueNetView& n = nets[m];
    PreparedNet& p = prepared[static_cast<size_t>(m)];
    p.net = &n;
    const int32_t d = n.dims.d, hidden = n.dims.hidden;
    p.W1T.resize(static_cast<size_t>(d) * static_cast<size_t>(hidden));
    for (int32_t u = 0; u < hidden; ++u)
      for (int32_t t = 0; t < d; ++t) p.W1T[static_cast<size_t>(t) * hidden + u] = n.W1[static_cast<size_t>(u) * d + t];
    max_d = std::max(max_d, d);
    max_h = std::max(max_h, hidden);
  }
  // Chunks of states, net by net inside a chunk (one table's prefetch stream at a time); the
  // combined score then adds the nets in order m = 0, 1, ... as the contract says.
  constexpr int32_t kChunk = 256;
  parallel_for(static_cast<size_t>(x.n_states), threads, 64, [&](size_t begin, size_t end) {
    std::vector<float> a(static_cast<size_t>(max_d)), h(static_cast<size_t>(max_h));
    std::vector<float> v(static_cast<size_t>(kChunk) * static_cast<size_t>(std::max(1, n_nets)));
    for (size_t c0 = begin; c0 < end; c0 += kChunk) {
      const int32_t s0 = static_cast<int32_t>(c0), s1 = static_cast<int32_t>(std::min(end, c0 + kChunk));
      for (int32_t m = 0; m < n_nets; ++m)
        score_range(prepared[static_cast<size_t>(m)], x, s0, s1, a.data(), h.data(), v.data() + static_cast<size_t>(m) * kChunk);
      for (int32_t s = s0; s < s1; ++s) {
        float c = 0.0f;
        for (int32_t m = 0; m < n_nets; ++m) {
          const float val = v[static_cast<size_t>(m) * kChunk + static_cast<size_t>(s - s0)];
          if (values) values[static_cast<size_t>(s) * static_cast<size_t>(n_nets) + static_cast<size_t>(m)] = val;
          c += val / betas[m];
        }
        if (combined) combined[s] = c;
      }
    }
  });
}

}  // namespace iro
