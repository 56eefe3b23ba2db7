// Parameters of chunk-level value-guided search (DESIGN.md §6), their validation against the
// loaded model, and the factory of the policy that the engine's decode binding submits.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "native/engine/policy.h"
#include "native/engine/request.h"
#include "native/kernels/sampler.h"
#include "native/search/search_report.h"
#include "native/value/value_model.h"

namespace iro::search {

enum class Strategy : int32_t { kTopW = 0, kDiverse = 1, kGroup = 2, kSoftmax = 3 };
enum class Rerank : int32_t { kValue = 0, kReward = 1, kNone = 2 };

// Name <-> enum ("topw" | "diverse" | "group" | "softmax", "value" | "reward" | "none");
// parse_* throw INVALID_ARGUMENT naming the accepted values.
Strategy parse_strategy(const std::string& name);
Rerank parse_rerank(const std::string& name);
const char* strategy_name(Strategy s);
const char* rerank_name(Rerank r);

struct SearchOptions {
  int32_t w = 4;                   // beams kept at each boundary
  int32_t k = 4;                   // children per kept beam
  int32_t l = 8;                   // tokens per chunk
  int32_t max_tokens = 64;         // response tokens per candidate
  SamplingParams sampling;         // token sampling of every sequence
  Strategy strategy = Strategy::kDiverse;
  float selection_temperature = 1.0f;  // softmax strategy: weights exp(score / T)
  Rerank rerank = Rerank::kValue;
  uint64_t seed = 0;
  uint32_t request_index = 0;      // index of the prompt in the caller's call (RNG key)
  std::vector<float> betas;        // one per value function: score = sum V_m / beta_m
  int32_t threads = 1;             // scoring threads (the scheduler thread runs the policy)
};

// What the loaded engine offers (read from the Model / Context by the binding).
struct SearchLimits {
  int32_t n_vocab = 0;
  std::string vocab_fingerprint;   // 16 hex digits (Model::fingerprint().hex)
  int32_t n_embd = 0;              // hidden-state width (dense value features)
  int32_t n_seq_max = 0;           // sequences the context holds
  int32_t n_ctx = 0;               // KV cells of the context
};

using ValueRef = std::shared_ptr<const value::ValueModel>;

// Model-independent checks: INVALID_ARGUMENT naming the option.
void validate_options(const SearchOptions& o, const std::vector<ValueRef>& values);
// Everything: the options, then TOO_MANY_SEQUENCES (w*k beyond the context's sequences),
// CONTEXT_OVERFLOW (prompt + maxTokens beyond the context, or the search's worst-case KV cells),
// VOCAB_MISMATCH (a value function made for another vocabulary), INVALID_ARGUMENT (a value
// function wanting hidden states of another width). prompt_tokens < 0 skips the prompt checks.
void validate_search(const SearchOptions& o, const std::vector<ValueRef>& values, const SearchLimits& limits,
                     int32_t prompt_tokens);

// Worst-case KV cells of one search: the prompt once plus every live sequence's own tokens.
int64_t search_max_cells(const SearchOptions& o, int32_t prompt_tokens);
// True when some value function reads the base model's hidden state.
bool wants_hidden_states(const std::vector<ValueRef>& values);

// The engine request for one prompt of a search (max_tokens, sampling, seed, request index,
// hidden-state output when a value function wants it).
engine::RequestSpec make_search_spec(const SearchOptions& o, const std::vector<ValueRef>& values,
                                     std::vector<int32_t> prompt, bool detokenize = true);

// Validates (validate_search without the prompt checks) and builds the policy. `report` (nullable)
// receives values, rankings and counters; `on_chunk` (nullable) runs on the scheduler thread after
// every selection and once at the end: keep it short (copy and hand off).
std::unique_ptr<engine::RequestPolicy> make_value_guided_policy(const SearchOptions& o, std::vector<ValueRef> values,
                                                                const SearchLimits& limits,
                                                                std::shared_ptr<SearchReport> report = nullptr,
                                                                ChunkCallback on_chunk = nullptr);

}  // namespace iro::search
