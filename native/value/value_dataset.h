// The training data of a value function: rows of (prompt tokens, response tokens, reward, weight,
// ended, optional dense rows), and the prefix states built from them (DESIGN.md §5, "optimize").
#pragma once
#include <cstdint>
#include <vector>

#include "native/value/featurizer.h"

namespace iro::value {

// Packed rows (CSR by row). dense, when d_dense > 0, holds one row of d_dense floats per response
// token: the base model's final hidden state after that token, i.e. the dense input of the prefix
// that ends there. A prefix of 0 tokens has no dense input (zeros).
struct ValueDataset {
  std::vector<int32_t> prompt_offsets{0}, prompt_tokens;
  std::vector<int32_t> response_offsets{0}, response_tokens;
  std::vector<float> rewards, weights;  // weight per row (>= 0)
  std::vector<uint8_t> ended;           // 1 = the response ended (EOS); its last state has the end flag
  std::vector<float> dense;
  int32_t d_dense = 0;

  int32_t rows() const { return static_cast<int32_t>(rewards.size()); }
  int32_t response_length(int32_t r) const { return response_offsets[r + 1] - response_offsets[r]; }
  // Checks shapes, offsets, token range [0, vocab_size) (vocab_size <= 0: no range check), finite
  // rewards and weights. Throws INVALID_ARGUMENT naming the first bad row.
  void validate(int32_t vocab_size) const;
};

// Prefix lengths scored for a response of length L: stride, 2*stride, ... below L, then L (a
// response of length 0 has the single state 0).
std::vector<int32_t> prefix_lengths(int32_t length, int32_t stride);

// Accumulated feature ids of every response token (see featurizer.h) and the prefix states of
// every row. Built once per dataset and featurizer.
struct PrefixIndex {
  std::vector<int64_t> token_offsets;  // per global response token t: ids [token_offsets[t], token_offsets[t+1])
  std::vector<uint32_t> ids;
  std::vector<int64_t> state_offsets;  // per row: states [state_offsets[r], state_offsets[r+1])
  std::vector<int32_t> state_len;
  std::vector<uint8_t> state_end;
  int64_t states() const { return static_cast<int64_t>(state_len.size()); }
  int64_t row_states(int32_t r) const { return state_offsets[r + 1] - state_offsets[r]; }
};

PrefixIndex build_prefix_index(const ValueDataset& data, const Featurizer& featurizer, int32_t stride, int threads);

}  // namespace iro::value
