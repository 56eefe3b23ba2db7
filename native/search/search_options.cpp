#include "native/search/search_options.h"

#include <cmath>

#include "native/common/error.h"

namespace iro::search {

Strategy parse_strategy(const std::string& name) {
  if (name == "topw") return Strategy::kTopW;
  if (name == "diverse") return Strategy::kDiverse;
  if (name == "group") return Strategy::kGroup;
  if (name == "softmax") return Strategy::kSoftmax;
  fail(codes::kInvalidArgument, "strategy must be 'diverse', 'topw', 'group' or 'softmax' (got '" + name + "')");
}

Rerank parse_rerank(const std::string& name) {
  if (name == "value") return Rerank::kValue;
  if (name == "reward") return Rerank::kReward;
  if (name == "none") return Rerank::kNone;
  fail(codes::kInvalidArgument, "rerank must be 'value', 'reward' or 'none' (got '" + name + "')");
}

const char* strategy_name(Strategy s) {
  switch (s) {
    case Strategy::kTopW: return "topw";
    case Strategy::kGroup: return "group";
    case Strategy::kSoftmax: return "softmax";
    default: return "diverse";
  }
}

const char* rerank_name(Rerank r) {
  switch (r) {
    case Rerank::kReward: return "reward";
    case Rerank::kNone: return "none";
    default: return "value";
  }
}

void validate_options(const SearchOptions& o, const std::vector<ValueRef>& values) {
  IRO_REQUIRE_ARG(o.w >= 1, "w (beams kept) must be an integer >= 1 (got " + std::to_string(o.w) + ")");
  IRO_REQUIRE_ARG(o.k >= 1, "k (children per beam) must be an integer >= 1 (got " + std::to_string(o.k) + ")");
  IRO_REQUIRE_ARG(o.l >= 1, "l (tokens per chunk) must be an integer >= 1 (got " + std::to_string(o.l) + ")");
  IRO_REQUIRE_ARG(o.max_tokens >= 1, "maxTokens must be an integer >= 1 (got " + std::to_string(o.max_tokens) + ")");
  IRO_REQUIRE_ARG(static_cast<int64_t>(o.w) * o.k <= (int64_t{1} << 20), "w * k is unreasonably large; lower w or k");
  validate_sampling(o.sampling);
  IRO_REQUIRE_ARG(std::isfinite(o.selection_temperature) && o.selection_temperature > 0,
              "selectionTemperature must be a finite number > 0");
  IRO_REQUIRE_ARG(o.betas.size() == values.size(), "give one beta per value function (" + std::to_string(values.size()) +
                                                   " value functions, " + std::to_string(o.betas.size()) + " betas)");
  for (size_t m = 0; m < values.size(); ++m) {
    IRO_REQUIRE_ARG(values[m] != nullptr, "value function " + std::to_string(m) + " is missing");
    IRO_REQUIRE_ARG(std::isfinite(o.betas[m]) && o.betas[m] > 0,
                "beta of value function " + std::to_string(m) + " must be a finite number > 0");
  }
  IRO_REQUIRE_ARG(o.threads >= 1, "threads must be >= 1");
}

int64_t search_max_cells(const SearchOptions& o, int32_t prompt_tokens) {
  // The last sampled token of a candidate is never decoded, so each live sequence owns at most
  // max_tokens - 1 cells; shared (forked) cells count once, which this bound over-counts.
  return static_cast<int64_t>(prompt_tokens) + static_cast<int64_t>(o.w) * o.k * std::max(0, o.max_tokens - 1);
}

bool wants_hidden_states(const std::vector<ValueRef>& values) {
  for (const auto& v : values) {
    if (v && v->dims.d_dense > 0) return true;
  }
  return false;
}

void validate_search(const SearchOptions& o, const std::vector<ValueRef>& values, const SearchLimits& limits,
                     int32_t prompt_tokens) {
  validate_options(o, values);
  const int64_t seqs = static_cast<int64_t>(o.w) * o.k;
  if (seqs > limits.n_seq_max) {
    fail(codes::kTooManySequences, "the search needs w * k = " + std::to_string(seqs) + " sequences but the engine holds " +
                                       std::to_string(limits.n_seq_max) + "; lower w or k, or load the engine with a larger maxSequences");
  }
  if (o.max_tokens >= limits.n_ctx) {
    fail(codes::kContextOverflow, "maxTokens (" + std::to_string(o.max_tokens) + ") does not fit the context of " +
                                      std::to_string(limits.n_ctx) + " tokens; lower maxTokens or load with a larger contextSize");
  }
  if (prompt_tokens >= 0) {
    if (static_cast<int64_t>(prompt_tokens) + o.max_tokens > limits.n_ctx) {
      fail(codes::kContextOverflow, "prompt (" + std::to_string(prompt_tokens) + " tokens) + maxTokens (" + std::to_string(o.max_tokens) +
                                        ") exceeds the context of " + std::to_string(limits.n_ctx) +
                                        " tokens; shorten the prompt, lower maxTokens or load with a larger contextSize");
    }
    const int64_t cells = search_max_cells(o, prompt_tokens);
    if (cells > limits.n_ctx) {
      fail(codes::kContextOverflow, "the search may need " + std::to_string(cells) + " KV cells (prompt + w * k * maxTokens) but the context holds " +
                                        std::to_string(limits.n_ctx) + "; lower w, k or maxTokens, or load with a larger contextSize");
    }
  }
  for (size_t m = 0; m < values.size(); ++m) {
    const value::ValueModel& v = *values[m];
    const bool fp_differs = !v.meta.vocab_fingerprint.empty() && !limits.vocab_fingerprint.empty() &&
                            v.meta.vocab_fingerprint != limits.vocab_fingerprint;
    const bool size_differs = v.meta.vocab_size > 0 && limits.n_vocab > 0 && v.meta.vocab_size != limits.n_vocab;
    if (fp_differs || size_differs) {
      fail(codes::kVocabMismatch, "value function " + std::to_string(m) + " was trained for another vocabulary (fingerprint " +
                                      v.meta.vocab_fingerprint + ", " + std::to_string(v.meta.vocab_size) + " tokens; the model has " +
                                      limits.vocab_fingerprint + ", " + std::to_string(limits.n_vocab) +
                                      " tokens); use value functions trained on this model");
    }
    if (v.dims.d_dense > 0 && v.dims.d_dense != limits.n_embd) {
      fail(codes::kInvalidArgument, "value function " + std::to_string(m) + " reads hidden states of width " + std::to_string(v.dims.d_dense) +
                                        " but the model's width is " + std::to_string(limits.n_embd) + "; use value functions trained on this model");
    }
  }
}

engine::RequestSpec make_search_spec(const SearchOptions& o, const std::vector<ValueRef>& values, std::vector<int32_t> prompt,
                                     bool detokenize) {
  engine::RequestSpec spec;
  spec.prompt = std::move(prompt);
  spec.sampling = o.sampling;
  spec.seed = o.seed;
  spec.request_index = o.request_index;
  spec.max_tokens = o.max_tokens;
  spec.hidden_states = wants_hidden_states(values);
  spec.detokenize = detokenize;
  return spec;
}

}  // namespace iro::search
