// Hashed sparse features of a prefix state (prompt x, response prefix y_1..y_n), DESIGN.md §5.
//
// Exact feature set (version 1). Every id is a 32-bit hash keyed by config.seed; the net reduces
// it mod n_buckets. Appending response token y_j (j = 1-based position) contributes, once and for
// good ("accumulated" ids):
//   - unigram  H(1, y_j)
//   - bigram   H(2, y_{j-1}, y_j)             when j >= 2 and ngram_max >= 2
//   - trigram  H(3, y_{j-2}, y_{j-1}, y_j)    when j >= 3 and ngram_max >= 3
//   - crosses  H(4, k, y_j) for every prompt key k (see below), in key order
// Prompt keys: over the last `prompt_window` prompt tokens, the unigrams H(7, t) then the bigrams
// H(8, t, t') of consecutive tokens. An empty prompt or window 0 gives no crosses.
// A state of n response tokens then has:
//   - every accumulated id of tokens 1..n, each with weight pool(n): 1 (pooling "sum", default:
//     effects of tokens add up, as in "which tokens appeared"), 1/sqrt(n) ("sqrt") or 1/n ("mean")
//   - the position bucket H(5, b) with weight 1, b = 0 for n = 0, else min(B-1, 1 + floor(log2 n))
//   - the end flag H(6, 1) with weight 1, only once the response has ended
// Accumulated ids never change once emitted, so extending a state by a chunk costs O(chunk) and
// training can reuse running sums over a response (native/value/value_forward.h).
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

namespace iro::value {

inline constexpr int32_t kFeaturizerVersion = 1;

struct FeaturizerConfig {
  uint32_t seed = 0;
  int32_t ngram_max = 3;          // 1..3
  int32_t prompt_window = 4;      // 0..64 last prompt tokens used for crosses
  int32_t position_buckets = 12;  // 1..64
  int32_t pooling = 0;            // 0 = sum, 1 = sqrt, 2 = mean (weight of accumulated ids)

  void validate() const;  // throws INVALID_ARGUMENT
  bool operator==(const FeaturizerConfig& o) const {
    return seed == o.seed && ngram_max == o.ngram_max && prompt_window == o.prompt_window &&
           position_buckets == o.position_buckets && pooling == o.pooling;
  }
  bool operator!=(const FeaturizerConfig& o) const { return !(*this == o); }
};

// Where a response stands: what the next token's n-grams need.
struct FeaturizerCursor {
  int32_t n_tokens = 0;
  int32_t prev1 = -1;  // last token
  int32_t prev2 = -1;  // the one before
};

// The incremental state of one candidate; copy it to fork a candidate.
struct FeaturizerState {
  std::vector<uint32_t> prompt_keys;
  std::vector<uint32_t> ids;  // accumulated ids of tokens 1..n, in order
  FeaturizerCursor cursor;
  bool ended = false;
};

class Featurizer {
 public:
  explicit Featurizer(const FeaturizerConfig& config);
  const FeaturizerConfig& config() const { return config_; }

  std::vector<uint32_t> prompt_keys(const int32_t* prompt, size_t n) const;
  // Sizes known before hashing: prompt_keys() of a prompt of n tokens, and what step() appends
  // for the token at 0-based `position` given that many prompt keys.
  size_t prompt_key_count(size_t n) const;
  size_t step_id_count(int32_t position, size_t n_keys) const;
  FeaturizerState begin(const int32_t* prompt, size_t n) const;
  // Appends the ids contributed by `token` to `out` and advances the cursor.
  void step(const std::vector<uint32_t>& prompt_keys, FeaturizerCursor& cursor, int32_t token,
            std::vector<uint32_t>& out) const;
  void extend(FeaturizerState& state, const int32_t* tokens, size_t n) const;  // O(n)
  void finish(FeaturizerState& state) const { state.ended = true; }

  float accumulated_weight(int32_t n_tokens) const;
  uint32_t position_id(int32_t n_tokens) const;
  uint32_t end_id() const;
  // Appends the state's sparse row (ids and weights) to the output vectors.
  void emit(const FeaturizerState& state, std::vector<uint32_t>& ids, std::vector<float>& weights) const;

 private:
  uint32_t hash(uint32_t tag, uint32_t a, uint32_t b = 0, uint32_t c = 0) const;
  FeaturizerConfig config_;
};

}  // namespace iro::value
