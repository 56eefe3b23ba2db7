// Token sampler shared by the engine and the beam-expansion kernel (its CUDA twin mirrors this
// contract exactly). Deterministic: the token depends only on the logits row, the parameters and
// the RngKey (seed, request, sequence, position), never on batching or threads.
//
// Procedure (the contract the CUDA version reproduces):
//   1. temperature <= 0: greedy = argmax of logits, lowest token id on ties.
//   2. otherwise candidates = the top_k highest logits (all when top_k <= 0 or >= n_vocab),
//      ordered by logit descending, ties by lower token id;
//      p_i = softmax(logit_i / temperature) over the candidates, accumulated in double;
//      min_p: drop candidates with p_i < min_p * p_max;
//      top_p: keep the shortest prefix whose cumulative probability >= top_p (at least one);
//      draw u = rng_uniform(key) and return the first candidate whose cumulative mass exceeds
//      u * (kept mass), accumulated in double in candidate order.
//   The reported `prob` is the model's own probability: softmax(logits) at temperature 1 over the
//   whole vocabulary (what llama.cpp's logits imply), and `logprob` its log.
#pragma once
#include <cstdint>
#include <utility>
#include <vector>

#include "native/common/rng.h"

namespace iro {

struct SamplingParams {
  float temperature = 0.7f;  // <= 0 means greedy
  int32_t top_k = 50;        // <= 0 means no limit
  float top_p = 1.0f;        // (0, 1]
  float min_p = 0.0f;        // [0, 1)
};

// Throws iro::Error(INVALID_ARGUMENT) with a message naming the bad field.
void validate_sampling(const SamplingParams& p);

struct SampledToken {
  int32_t token = -1;
  float prob = 0.0f;     // model probability at temperature 1
  float logprob = 0.0f;  // log(prob)
};

// Reusable buffers so that sampling allocates nothing in steady state.
struct SamplerScratch {
  std::vector<std::pair<float, int32_t>> candidates;
  std::vector<double> probs;
};

SampledToken sample_token(const float* logits, int32_t n_vocab, const SamplingParams& params, const RngKey& key,
                          SamplerScratch& scratch);

// log-softmax value of one token at temperature 1 (what `prob` reports), for tests and scoring.
float token_logprob(const float* logits, int32_t n_vocab, int32_t token);

}  // namespace iro
