// CUDA twin of native/kernels/resample.h (CUDA variant only): same signatures in iro::cuda, host
// pointers in and out, same validation and errors. Selections (draws, top-w, diverse, group-best)
// are identical to the CPU reference: the ranking is exact, and the weights and the blocked CDF
// are computed with the same double-precision association (kCdfBlock). log-weights and ESS agree
// to rounding. CUDA failures throw iro::Error(CUDA_ERROR).
#pragma once
#include <cstdint>

#include "native/kernels/resample.h"

namespace iro::cuda {

void softmax_weights(const float* scores, const int32_t* offsets, int32_t n_segments, float tau, float* log_weights,
                     float* ess, int threads);
void resample(const float* scores, const int32_t* offsets, int32_t n_segments, float tau, ResampleMethod method,
              const int32_t* draw_offsets, uint64_t seed, uint32_t step, const uint32_t* request_ids, int32_t* draws,
              int threads);
void top_w(const float* scores, const int32_t* offsets, int32_t n_segments, int32_t w, int32_t* out, int threads);
void diverse_top_w(const float* scores, const uint64_t* hashes, const int32_t* offsets, int32_t n_segments, int32_t w,
                   int32_t* out, int threads);
void group_best(const float* scores, const int32_t* offsets, int32_t n_segments, int32_t k, int32_t* out, int threads);

}  // namespace iro::cuda
