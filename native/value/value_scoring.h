// Scoring prefix states with one or more value functions: featurize (featurizer.h), then the
// value-scoring kernel (native/kernels/value_score.h) computes every V_m and sum_m V_m / beta_m.
#pragma once
#include <cstdint>
#include <vector>

#include "native/value/featurizer.h"
#include "native/value/value_model.h"

namespace iro::value {

// States in CSR form. dense (when d_dense > 0) holds one row per state: the base model's hidden
// state after the state's last response token. A state without response tokens gets no dense
// input, as in training (its row is ignored).
struct StateBatch {
  std::vector<int32_t> prompt_offsets{0}, prompt_tokens;
  std::vector<int32_t> response_offsets{0}, response_tokens;
  std::vector<uint8_t> ended;
  std::vector<float> dense;
  int32_t d_dense = 0;

  int32_t size() const { return static_cast<int32_t>(ended.size()); }
  void validate(int32_t vocab_size) const;  // INVALID_ARGUMENT
};

struct SparseRows {
  std::vector<int32_t> offsets{0};
  std::vector<uint32_t> ids;
  std::vector<float> weights;
};

SparseRows featurize_states(const Featurizer& f, const StateBatch& states);

struct ScoreOutput {
  std::vector<float> values;    // [n_states x n_models], state-major
  std::vector<float> combined;  // [n_states]
};

// All models must share the featurizer config (INVALID_ARGUMENT otherwise).
ScoreOutput score_states(const std::vector<const ValueModel*>& models, const std::vector<float>& betas,
                         const StateBatch& states, int threads);

}  // namespace iro::value
