// Plain autoregressive sampling from a model, one prompt after another: the forge's check that a
// model produces sensible text (tests, the forge report). Not the engine: no batching or search.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "native/kernels/sampler.h"

namespace iro::forge {

struct SampleOptions {
  int32_t max_tokens = 64;
  SamplingParams sampling;
  uint64_t seed = 0;
  int32_t threads = 1;
};

struct SampleResult {
  std::string text;             // the continuation only (prompt excluded)
  std::vector<int32_t> tokens;  // continuation tokens (EOS excluded)
  bool ended = false;           // the model emitted end-of-sequence
};

// Each prompt is tokenized with BOS; the draw for prompt i at step j uses RngKey{seed, i, 0, j}.
std::vector<SampleResult> sample_texts(const std::string& model_path, const std::vector<std::string>& prompts,
                                       const SampleOptions& options);

}  // namespace iro::forge
