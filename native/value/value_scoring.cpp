#include "native/value/value_scoring.h"

#include <algorithm>
#include <limits>
#include <string>

#include "native/common/error.h"
#include "native/kernels/value_score.h"

namespace iro::value {

void StateBatch::validate(int32_t vocab_size) const {
  const size_t n = ended.size();
  auto offsets_ok = [&](const std::vector<int32_t>& off, size_t total) {
    if (off.size() != n + 1 || off[0] != 0 || static_cast<size_t>(off[n]) != total) return false;
    for (size_t i = 0; i < n; ++i) {
      if (off[i + 1] < off[i]) return false;
    }
    return true;
  };
  IRO_REQUIRE_ARG(offsets_ok(prompt_offsets, prompt_tokens.size()), "state prompt offsets are inconsistent");
  IRO_REQUIRE_ARG(offsets_ok(response_offsets, response_tokens.size()), "state response offsets are inconsistent");
  IRO_REQUIRE_ARG(d_dense >= 0 && dense.size() == n * static_cast<size_t>(d_dense),
              "dense features must hold one row of " + std::to_string(d_dense) + " floats per state");
  for (const auto* toks : {&prompt_tokens, &response_tokens}) {
    for (int32_t t : *toks) {
      IRO_REQUIRE_ARG(t >= 0 && (vocab_size <= 0 || t < vocab_size),
                  "token id " + std::to_string(t) + " is outside the vocabulary [0, " + std::to_string(vocab_size) + ")");
    }
  }
}

SparseRows featurize_states(const Featurizer& f, const StateBatch& b) {
  SparseRows out;
  for (int32_t s = 0; s < b.size(); ++s) {
    FeaturizerState st = f.begin(b.prompt_tokens.data() + b.prompt_offsets[s], b.prompt_offsets[s + 1] - b.prompt_offsets[s]);
    f.extend(st, b.response_tokens.data() + b.response_offsets[s], b.response_offsets[s + 1] - b.response_offsets[s]);
    if (b.ended[s]) f.finish(st);
    f.emit(st, out.ids, out.weights);
    IRO_REQUIRE_ARG(out.ids.size() <= static_cast<size_t>(std::numeric_limits<int32_t>::max()), "too many features in one batch: score fewer states at once");
    out.offsets.push_back(static_cast<int32_t>(out.ids.size()));
  }
  return out;
}

ScoreOutput score_states(const std::vector<const ValueModel*>& models, const std::vector<float>& betas,
                         const StateBatch& states, int threads) {
  IRO_REQUIRE_ARG(!models.empty(), "give at least one value function");
  IRO_REQUIRE_ARG(betas.size() == models.size(), "give one beta per value function");
  for (const ValueModel* m : models) {
    IRO_REQUIRE_ARG(m->featurizer == models[0]->featurizer,
                "value functions with different featurizer settings cannot be scored together");
    IRO_REQUIRE_ARG(m->dims.d_dense == 0 || m->dims.d_dense == states.d_dense,
                "a value function needs " + std::to_string(m->dims.d_dense) + " dense features per state, got " +
                    std::to_string(states.d_dense));
  }
  const Featurizer f(models[0]->featurizer);
  const SparseRows rows = featurize_states(f, states);
  // Training gives a prefix of 0 tokens no dense input; mirror that.
  std::vector<float> dense = states.dense;
  for (int32_t s = 0; s < states.size(); ++s) {
    if (states.response_offsets[s + 1] == states.response_offsets[s]) {
      std::fill(dense.begin() + static_cast<size_t>(s) * states.d_dense, dense.begin() + static_cast<size_t>(s + 1) * states.d_dense, 0.0f);
    }
  }
  SparseFeatures x;
  x.n_states = states.size();
  x.offsets = rows.offsets.data();
  x.ids = rows.ids.data();
  x.weights = rows.weights.data();
  x.dense = states.d_dense > 0 ? dense.data() : nullptr;
  x.d_dense = states.d_dense;
  std::vector<ValueNetView> views;
  for (const ValueModel* m : models) views.push_back(m->view());
  ScoreOutput out;
  out.values.resize(static_cast<size_t>(states.size()) * models.size());
  out.combined.resize(states.size());
  score_values(x, views.data(), static_cast<int32_t>(views.size()), betas.data(), out.values.data(), out.combined.data(), threads);
  return out;
}

}  // namespace iro::value
