// Plain sampling of n continuations (Best-of-N when the caller ranks them): the prompt is
// evaluated once and forked into n candidates that all advance in the shared steps.
#pragma once
#include "native/engine/policy.h"

namespace iro::engine {

class SamplingPolicy final : public RequestPolicy {
 public:
  explicit SamplingPolicy(int32_t n);
  int32_t max_live_sequences() const override { return n_; }
  int64_t max_cells(int32_t prompt_tokens, int32_t max_tokens) const override;
  void on_prefill_done(RequestState& rq) override;

 private:
  int32_t n_;
};

}  // namespace iro::engine
