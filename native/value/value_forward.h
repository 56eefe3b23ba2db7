// The training-side forward and backward of the value net over all prefix states of one response.
// Accumulated ids never change once a token is appended (featurizer.h), so the embedding sum of a
// prefix extends the previous one: a whole response costs O(tokens + states), not O(length^2), and
// the gradient of a token's ids is a suffix sum over the states that contain it. The scoring
// kernel (native/kernels/value_score.h) computes the same V from the featurizer's sparse rows.
#pragma once
#include <cstdint>
#include <vector>

#include "native/kernels/value_net.h"
#include "native/value/featurizer.h"
#include "native/value/value_dataset.h"

namespace iro::value {

struct RowView {
  int32_t n_tokens = 0;              // response length L
  const int64_t* tok_off = nullptr;  // L + 1 offsets into ids
  const uint32_t* ids = nullptr;
  const float* dense = nullptr;      // L x d_dense, or null
  const int32_t* lens = nullptr;     // prefix lengths, ascending
  const uint8_t* ends = nullptr;     // end flag per state
  int32_t n_states = 0;
};

struct RowActivations {
  std::vector<float> a, h, v;  // n_states x d, n_states x hidden, n_states
};

// Gradients of one row: the dense parameters in flat order [b0 | P | W1 | b1 | w2 | b2], the
// per-token gradient G (L x d, shared by all ids of that token, already scaled by their weight)
// and the per-state gradient of the pre-activation (n_states x d, for position and end ids).
struct RowGrads {
  std::vector<float> dense, tok, state;
};

size_t dense_param_count(const ValueNetDims& d);

// The row's tokens and its PrefixIndex states.
RowView row_view(const ValueDataset& data, const PrefixIndex& ix, int32_t r);

void forward_row(const ValueNetView& net, const Featurizer& f, const RowView& row, RowActivations& act);

// dv[s] = dLoss/dV_s. Overwrites g.
void backward_row(const ValueNetView& net, const Featurizer& f, const RowView& row, const RowActivations& act, const float* dv, RowGrads& g);

}  // namespace iro::value
