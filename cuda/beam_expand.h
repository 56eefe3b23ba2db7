// CUDA twin of native/kernels/beam_expand.h (CUDA variant only). The layout and fork plan are the
// CPU's (integer bookkeeping on the host, identical by construction); the children's first tokens
// are sampled on the device with cuda/sampler.cuh, giving the same tokens as iro::sample_token.
// Host pointers in and out; CUDA failures throw iro::Error(CUDA_ERROR).
#pragma once
#include "native/kernels/beam_expand.h"

namespace iro::cuda {

void sample_children(const BeamLayout& layout, const BeamLogits& logits, const BeamSampling& sampling, const int32_t* lengths,
                     int32_t* tokens, float* logprobs, int threads);

BeamExpansion expand_beams(const BeamBatch& batch, const BeamLogits& logits, const BeamSampling& sampling,
                           const BeamHistories& histories, int threads);

}  // namespace iro::cuda
