// Batched value scoring (DESIGN.md §4.1): B prefix states x M value nets -> per-net values and the
// combined search score. CPU reference; cuda/value_score.h is its twin with the same contract.
//
// Math per state s and net m (exactly native/kernels/value_net.h, in this float32 order, no FMA):
//   a[t] = b0[t];  for j in offsets[s]..offsets[s+1]-1 (in order): a[t] += w_j * E[(ids[j] % n_buckets) * d + t]
//          (w_j = weights[j], or the plain E row when weights is null);
//          then, when net m has d_dense > 0: for q in 0..d_dense-1: a[t] += dense[s*d_dense + q] * P[q*d + t]
//   h[u] = b1[u];  for t in 0..d-1: h[u] += W1[u*d + t] * a[t];  h[u] = max(h[u], 0)
//   V    = b2;     for u in 0..hidden-1: V += w2[u] * h[u]
//   values[s*n_nets + m] = V                                      (state-major)
//   combined[s] = 0; for m in 0..n_nets-1: combined[s] += values[s*n_nets + m] / betas[m]
// Every state is computed by one thread in this fixed order, so the result is identical for every
// thread count (and the CUDA twin, which follows the same order with round-to-nearest ops, agrees).
#pragma once
#include <cstdint>

#include "native/kernels/value_net.h"

namespace iro {

// Hashed sparse features of a batch of states in CSR form, plus an optional dense row per state.
struct SparseFeatures {
  int32_t n_states = 0;
  const int32_t* offsets = nullptr;  // [n_states + 1], non-decreasing, offsets[0] >= 0; ids of state s are
                                     // ids[offsets[s] .. offsets[s+1]-1]
  const uint32_t* ids = nullptr;     // hashed feature ids, taken modulo each net's n_buckets
  const float* weights = nullptr;    // same length as ids; nullable: every weight is 1
  const float* dense = nullptr;      // [n_states * d_dense] row-major; nullable when no net uses dense rows
  int32_t d_dense = 0;               // width of a dense row (0 when dense is null)
};

// Throws iro::Error(INVALID_ARGUMENT) naming the problem when:
//   n_states < 0, offsets null (n_states > 0), offsets[0] < 0 or offsets decreasing, ids null while some
//   state has features; n_nets < 0 or nets null (n_nets > 0); a net with n_buckets/d/hidden <= 0,
//   d_dense < 0 or a null parameter pointer (P may be null only when d_dense == 0); betas null
//   (n_nets > 0) or a beta that is not finite and > 0; d_dense < 0, or d_dense > 0 with dense null;
//   a net with d_dense > 0 whose d_dense differs from x.d_dense or when x has no dense rows.
// A net with d_dense == 0 ignores the dense rows.
void validate_score_inputs(const SparseFeatures& x, const ValueNetView* nets, int32_t n_nets, const float* betas);

// Scores every state with every net (see the math above). `values` [n_states*n_nets] (state-major)
// and `combined` [n_states] are outputs; either may be null when not wanted. threads < 1 means 1.
// Validates first (validate_score_inputs); writes nothing on error.
void score_values(const SparseFeatures& x, const ValueNetView* nets, int32_t n_nets, const float* betas,
                  float* values, float* combined, int threads);

}  // namespace iro
