// Device twin of iro::sample_token (native/kernels/sampler.h), following its documented procedure
// step by step: same candidate order (logit descending, lower id first), the same double-precision
// sums in the same order, the same RNG draw. One thread samples one row; the caller provides the row
// sorted in candidate order (a stable descending sort by logit of ids 0..n_vocab-1).
// Every add/sub/mul/div is an explicit round-to-nearest intrinsic: nvcc contracts a plain a*b+c
// into an FMA (and may fuse exp()'s final scaling multiply into the running sum), which the CPU
// never does. The weights use det_exp (native/common/det_exp.h), as the CPU sampler does, so the
// sampled tokens are bit-identical; only the reported logprob uses CUDA's exp/log (within an ulp).
#pragma once
#include <cuda_runtime.h>

#include <cstdint>

#include "native/common/det_exp.h"
#include "native/common/rng.h"
#include "native/kernels/sampler.h"

namespace iro::cuda {

// log-softmax at temperature 1 of `token` over the raw row (as iro::token_logprob).
__device__ inline float device_token_logprob(const float* logits, int32_t n_vocab, int32_t token) {
  float mx = -INFINITY;
  for (int32_t i = 0; i < n_vocab; ++i) mx = fmaxf(mx, logits[i]);
  double sum = 0.0;
  for (int32_t i = 0; i < n_vocab; ++i) sum = __dadd_rn(sum, exp(__dsub_rn(static_cast<double>(logits[i]), static_cast<double>(mx))));
  return static_cast<float>(__dsub_rn(__dsub_rn(static_cast<double>(logits[token]), static_cast<double>(mx)), log(sum)));
}

// raw: the row as given; sorted_logits/sorted_ids: the same row in candidate order (only read when
// temperature > 0). Returns the token; *logprob gets its model log-probability.
__device__ inline int32_t device_sample_token(const float* raw, const float* sorted_logits, const int32_t* sorted_ids, int32_t n_vocab,
                                              const SamplingParams& params, const RngKey& key, float* logprob) {
  int32_t token;
  if (params.temperature <= 0.0f) {
    int32_t best = 0;
    for (int32_t i = 1; i < n_vocab; ++i)
      if (raw[i] > raw[best]) best = i;
    token = best;
  } else {
    const int32_t k = (params.top_k <= 0 || params.top_k >= n_vocab) ? n_vocab : params.top_k;
    const double inv_t = __ddiv_rn(1.0, static_cast<double>(params.temperature));
    const double top = static_cast<double>(sorted_logits[0]);
    // p_i is recomputed where needed: exp of the same argument gives the same double every time.
    auto p = [&](int32_t i) { return det_exp(__dmul_rn(__dsub_rn(static_cast<double>(sorted_logits[i]), top), inv_t)); };
    double total = 0.0;
    for (int32_t i = 0; i < k; ++i) total = __dadd_rn(total, p(i));
    int32_t kept = k;
    if (params.min_p > 0.0f) {
      const double floor = __dmul_rn(static_cast<double>(params.min_p), __ddiv_rn(p(0), total));
      int32_t n = 1;
      while (n < kept && __ddiv_rn(p(n), total) >= floor) ++n;
      kept = n;
    }
    if (params.top_p < 1.0f) {
      double cum = 0.0;
      int32_t n = 0;
      while (n < kept) {
        cum = __dadd_rn(cum, __ddiv_rn(p(n), total));
        ++n;
        if (cum >= static_cast<double>(params.top_p)) break;
      }
      kept = n < 1 ? 1 : n;
    }
    double mass = 0.0;
    for (int32_t i = 0; i < kept; ++i) mass = __dadd_rn(mass, p(i));
    const double target = __dmul_rn(static_cast<double>(rng_uniform(key)), mass);
    double cum = 0.0;
    token = sorted_ids[kept - 1];
    for (int32_t i = 0; i < kept; ++i) {
      cum = __dadd_rn(cum, p(i));
      if (cum > target) {
        token = sorted_ids[i];
        break;
      }
    }
  }
  *logprob = device_token_logprob(raw, n_vocab, token);
  return token;
}

}  // namespace iro::cuda
