// What a decoding request is made of: its spec, its candidates (one per sequence it ever had), its
// stats, and the result handed back. Policies read and steer these between steps.
#pragma once
#include <cstdint>
#include <deque>
#include <string>
#include <vector>

#include "native/kernels/sampler.h"

namespace iro::engine {

struct RequestSpec {
  std::vector<int32_t> prompt;
  SamplingParams sampling;
  uint64_t seed = 0;
  uint32_t request_index = 0;  // index of this prompt inside the caller's call (RNG key)
  int32_t max_tokens = 64;     // response tokens per candidate
  bool hidden_states = false;  // keep the final-layer hidden state of each candidate's latest row
  bool detokenize = true;      // fill CandidateResult::text
};

enum class FinishReason { kNone, kStop, kLength, kPruned };
const char* finish_reason_name(FinishReason r);

struct Candidate {
  int32_t index = 0;            // candidate index inside the request (RNG key)
  int32_t parent = -1;          // candidate it was forked from, -1 for the root
  int32_t seq = -1;             // KV sequence id while live
  std::vector<int32_t> tokens;  // sampled response tokens (an end-of-generation token is not kept)
  std::vector<float> logprobs;  // model log-probability of each token (temperature 1)
  int32_t fed = 0;              // response tokens already decoded into the KV cache
  int32_t row = -1;             // output row of the latest decode; valid until the next decode
  int32_t since_boundary = 0;   // tokens sampled since the last chunk boundary
  bool finished = false;
  FinishReason reason = FinishReason::kNone;
  std::vector<float> hidden;    // final-layer hidden state of the latest output row (when requested)
  double score = 0.0;           // free for policies (value scores)

  bool live() const { return !finished; }
  bool has_pending() const { return static_cast<int32_t>(tokens.size()) > fed; }
};

struct RequestStats {
  int64_t prompt_tokens = 0;     // prompt tokens evaluated (once, whatever the candidate count)
  int64_t tokens_sampled = 0;
  int64_t tokens_evaluated = 0;  // all tokens this request put through llama_decode
  int64_t decode_steps = 0;      // steps (llama_decode rounds) the request took part in
  int64_t forks = 0;
  int64_t prunes = 0;
  int32_t max_live_sequences = 0;
  double queue_ms = 0, prefill_ms = 0, decode_ms = 0, sample_ms = 0, policy_ms = 0, total_ms = 0;
};

struct CandidateResult {
  int32_t index = 0;
  int32_t parent = -1;
  std::vector<int32_t> tokens;
  std::vector<float> logprobs;
  std::string text;
  FinishReason reason = FinishReason::kNone;
  std::vector<float> hidden;
  double score = 0.0;
};

struct RequestResult {
  std::vector<CandidateResult> candidates;
  RequestStats stats;
};

}  // namespace iro::engine
