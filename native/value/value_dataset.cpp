#include "native/value/value_dataset.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "native/common/error.h"
#include "native/common/threads.h"

namespace iro::value {
namespace {

void check_offsets(const std::vector<int32_t>& off, size_t rows, size_t total, const char* what) {
  IRO_REQUIRE_ARG(off.size() == rows + 1, std::string(what) + " offsets must have rows + 1 entries");
  IRO_REQUIRE_ARG(off[0] == 0, std::string(what) + " offsets must start at 0");
  for (size_t r = 0; r < rows; ++r) {
    IRO_REQUIRE_ARG(off[r + 1] >= off[r], std::string(what) + " offsets must not decrease (row " + std::to_string(r) + ")");
  }
  IRO_REQUIRE_ARG(static_cast<size_t>(off[rows]) == total, std::string(what) + " offsets must end at the token count");
}

}  // namespace

void ValueDataset::validate(int32_t vocab_size) const {
  const size_t n = rewards.size();
  IRO_REQUIRE_ARG(n > 0, "the dataset is empty: give at least one row");
  IRO_REQUIRE_ARG(weights.size() == n && ended.size() == n, "dataset rows are inconsistent (weights/ended length)");
  check_offsets(prompt_offsets, n, prompt_tokens.size(), "prompt");
  check_offsets(response_offsets, n, response_tokens.size(), "response");
  IRO_REQUIRE_ARG(d_dense >= 0, "dense width must be >= 0");
  IRO_REQUIRE_ARG(dense.size() == response_tokens.size() * static_cast<size_t>(d_dense),
              "dense features must hold one row of " + std::to_string(d_dense) + " floats per response token (got " +
                  std::to_string(dense.size()) + " floats for " + std::to_string(response_tokens.size()) + " tokens)");
  auto check_tokens = [&](const std::vector<int32_t>& toks, const std::vector<int32_t>& off, const char* what) {
    for (size_t r = 0; r < n; ++r) {
      for (int32_t i = off[r]; i < off[r + 1]; ++i) {
        const int32_t t = toks[i];
        IRO_REQUIRE_ARG(t >= 0 && (vocab_size <= 0 || t < vocab_size),
                    std::string("row ") + std::to_string(r) + ": " + what + " token id " + std::to_string(t) +
                        " is outside the vocabulary [0, " + std::to_string(vocab_size) + ")");
      }
    }
  };
  check_tokens(prompt_tokens, prompt_offsets, "prompt");
  check_tokens(response_tokens, response_offsets, "response");
  for (size_t r = 0; r < n; ++r) {
    IRO_REQUIRE_ARG(std::isfinite(rewards[r]), "row " + std::to_string(r) + ": reward must be a finite number");
    IRO_REQUIRE_ARG(std::isfinite(weights[r]) && weights[r] >= 0.0f, "row " + std::to_string(r) + ": weight must be finite and >= 0");
  }
  for (float x : dense) IRO_REQUIRE_ARG(std::isfinite(x), "dense features must be finite");
}

std::vector<int32_t> prefix_lengths(int32_t length, int32_t stride) {
  std::vector<int32_t> lens;
  for (int32_t n = stride; n < length; n += stride) lens.push_back(n);
  lens.push_back(length);
  return lens;
}

PrefixIndex build_prefix_index(const ValueDataset& data, const Featurizer& f, int32_t stride, int threads) {
  IRO_REQUIRE_ARG(stride >= 1, "prefixStride must be >= 1");
  const int32_t rows = data.rows();
  PrefixIndex ix;
  // Id counts depend only on position and prompt length, so offsets come before any hashing.
  const size_t n_tok = data.response_tokens.size();
  ix.token_offsets.assign(n_tok + 1, 0);
  for (int32_t r = 0; r < rows; ++r) {
    const size_t n_keys = f.prompt_key_count(static_cast<size_t>(data.prompt_offsets[r + 1] - data.prompt_offsets[r]));
    const int32_t t0 = data.response_offsets[r];
    for (int32_t j = 0; j < data.response_length(r); ++j) {
      ix.token_offsets[t0 + j + 1] = static_cast<int64_t>(f.step_id_count(j, n_keys));
    }
  }
  for (size_t t = 0; t < n_tok; ++t) ix.token_offsets[t + 1] += ix.token_offsets[t];
  ix.ids.resize(static_cast<size_t>(ix.token_offsets[n_tok]));
  parallel_for(static_cast<size_t>(rows), threads, 64, [&](size_t b, size_t e) {
    std::vector<uint32_t> buf;
    for (size_t r = b; r < e; ++r) {
      const int32_t p0 = data.prompt_offsets[r], p1 = data.prompt_offsets[r + 1];
      const auto keys = f.prompt_keys(data.prompt_tokens.data() + p0, p1 - p0);
      FeaturizerCursor cur;
      buf.clear();
      const int32_t t0 = data.response_offsets[r], t1 = data.response_offsets[r + 1];
      for (int32_t t = t0; t < t1; ++t) f.step(keys, cur, data.response_tokens[t], buf);
      std::copy(buf.begin(), buf.end(), ix.ids.begin() + ix.token_offsets[t0]);
    }
  });
  ix.state_offsets.assign(rows + 1, 0);
  for (int32_t r = 0; r < rows; ++r) {
    const int32_t len = data.response_length(r);
    const auto lens = prefix_lengths(len, stride);
    for (int32_t n : lens) {
      ix.state_len.push_back(n);
      ix.state_end.push_back(n == len && data.ended[r] ? 1 : 0);
    }
    ix.state_offsets[r + 1] = static_cast<int64_t>(ix.state_len.size());
  }
  return ix;
}

}  // namespace iro::value
