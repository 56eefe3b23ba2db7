#include "native/engine/sampling_policy.h"

#include <algorithm>

#include "native/common/error.h"

namespace iro::engine {

const char* finish_reason_name(FinishReason r) {
  switch (r) {
    case FinishReason::kStop: return "stop";
    case FinishReason::kLength: return "length";
    case FinishReason::kPruned: return "pruned";
    default: return "none";
  }
}

SamplingPolicy::SamplingPolicy(int32_t n) : n_(n) { IRO_REQUIRE_ARG(n >= 1, "n must be >= 1"); }

int64_t SamplingPolicy::max_cells(int32_t prompt_tokens, int32_t max_tokens) const {
  // The last sampled token is never decoded, so each candidate adds at most max_tokens - 1 cells.
  return static_cast<int64_t>(prompt_tokens) + static_cast<int64_t>(n_) * std::max(0, max_tokens - 1);
}

void SamplingPolicy::on_prefill_done(RequestState& rq) {
  for (int32_t i = 1; i < n_; ++i) rq.ops->fork(0);
}

}  // namespace iro::engine
