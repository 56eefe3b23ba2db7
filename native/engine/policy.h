// A request is driven by a policy: the scheduler runs the steps (batching, decoding, sampling,
// freeing finished sequences) and calls the policy's hooks at step boundaries, where it may fork,
// prune and score candidates. Plain sampling / Best-of-N is one policy; chunk-level value-guided
// search plugs in the same way.
#pragma once
#include <cstdint>
#include <deque>

#include "native/engine/request.h"
#include "native/engine/sequence_slots.h"

namespace iro::engine {

class RequestPolicy;

// The scheduler-side operations a policy may call from its hooks (scheduler thread only).
class SequenceOps {
 public:
  virtual ~SequenceOps() = default;
  // New live candidate sharing the parent's KV cells, tokens and current logits row.
  virtual Candidate& fork(int32_t parent_index) = 0;
  // Ends a live candidate (reason kPruned) and frees its sequence.
  virtual void prune(int32_t index) = 0;
  // Logits / hidden state of a candidate's current row (nullptr when it has none).
  virtual const float* logits(const Candidate& c) const = 0;
  virtual const float* hidden(const Candidate& c) const = 0;
  virtual KvStats kv_stats() const = 0;
};

// One request as policies see it.
struct RequestState {
  RequestSpec spec;
  std::deque<Candidate> candidates;  // every candidate ever created; deque keeps references stable
  RequestStats stats;
  SequenceOps* ops = nullptr;        // set while the request is active
  int32_t n_vocab = 0;

  int32_t live_count() const {
    int32_t n = 0;
    for (const auto& c : candidates) n += c.live() ? 1 : 0;
    return n;
  }
};

class RequestPolicy {
 public:
  virtual ~RequestPolicy() = default;
  // Admission bounds: the most sequences alive at once, and the most KV cells ever in use.
  virtual int32_t max_live_sequences() const = 0;
  virtual int64_t max_cells(int32_t prompt_tokens, int32_t max_tokens) const = 0;
  // The prompt is in the cache as candidate 0 with its logits row ready; fork it here.
  virtual void on_prefill_done(RequestState& rq) = 0;
  // Tokens per chunk (0 = no chunking): on_chunk_boundary runs before sampling when the live
  // candidates have sampled this many tokens since the last boundary, and once when all finished.
  virtual int32_t chunk_tokens() const { return 0; }
  virtual void on_chunk_boundary(RequestState& rq) {}
  // A token was sampled for c (already appended). Return true to finish c now.
  virtual bool on_token(RequestState& rq, Candidate& c) { return false; }
  virtual void on_finished(RequestState& rq, Candidate& c) {}
  virtual bool done(const RequestState& rq) const { return rq.live_count() == 0; }
};

}  // namespace iro::engine
