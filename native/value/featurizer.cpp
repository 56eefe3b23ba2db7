#include "native/value/featurizer.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "native/common/error.h"

namespace iro::value {
namespace {

inline uint64_t mix64(uint64_t x) {
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebULL;
  x ^= x >> 31;
  return x;
}

}  // namespace

void FeaturizerConfig::validate() const {
  IRO_REQUIRE_ARG(ngram_max >= 1 && ngram_max <= 3, "featurizer ngramMax must be 1, 2 or 3 (got " + std::to_string(ngram_max) + ")");
  IRO_REQUIRE_ARG(prompt_window >= 0 && prompt_window <= 64,
              "featurizer promptWindow must be between 0 and 64 (got " + std::to_string(prompt_window) + ")");
  IRO_REQUIRE_ARG(pooling >= 0 && pooling <= 2, "featurizer pooling must be sum, sqrt or mean");
  IRO_REQUIRE_ARG(position_buckets >= 1 && position_buckets <= 64,
              "featurizer positionBuckets must be between 1 and 64 (got " + std::to_string(position_buckets) + ")");
}

Featurizer::Featurizer(const FeaturizerConfig& config) : config_(config) { config_.validate(); }

uint32_t Featurizer::hash(uint32_t tag, uint32_t a, uint32_t b, uint32_t c) const {
  uint64_t h = mix64((static_cast<uint64_t>(config_.seed) << 8 | tag) + 0x9e3779b97f4a7c15ULL);
  h = mix64(h + a);
  h = mix64(h + (static_cast<uint64_t>(b) << 32 | c));
  return static_cast<uint32_t>(h >> 32);
}

std::vector<uint32_t> Featurizer::prompt_keys(const int32_t* prompt, size_t n) const {
  std::vector<uint32_t> keys;
  const size_t w = std::min(n, static_cast<size_t>(config_.prompt_window));
  const int32_t* p = prompt + (n - w);
  keys.reserve(prompt_key_count(n));
  for (size_t i = 0; i < w; ++i) keys.push_back(hash(7, static_cast<uint32_t>(p[i])));
  for (size_t i = 1; i < w; ++i) keys.push_back(hash(8, static_cast<uint32_t>(p[i - 1]), static_cast<uint32_t>(p[i])));
  return keys;
}

size_t Featurizer::prompt_key_count(size_t n) const {
  const size_t w = std::min(n, static_cast<size_t>(config_.prompt_window));
  return w == 0 ? 0 : 2 * w - 1;  // w unigrams, w - 1 bigrams
}

size_t Featurizer::step_id_count(int32_t position, size_t n_keys) const {
  size_t c = 1 + n_keys;
  if (config_.ngram_max >= 2 && position >= 1) ++c;
  if (config_.ngram_max >= 3 && position >= 2) ++c;
  return c;
}

FeaturizerState Featurizer::begin(const int32_t* prompt, size_t n) const {
  FeaturizerState s;
  s.prompt_keys = prompt_keys(prompt, n);
  return s;
}

void Featurizer::step(const std::vector<uint32_t>& keys, FeaturizerCursor& cur, int32_t token,
                      std::vector<uint32_t>& out) const {
  const uint32_t t = static_cast<uint32_t>(token);
  out.push_back(hash(1, t));
  if (config_.ngram_max >= 2 && cur.n_tokens >= 1) out.push_back(hash(2, static_cast<uint32_t>(cur.prev1), t));
  if (config_.ngram_max >= 3 && cur.n_tokens >= 2) {
    out.push_back(hash(3, static_cast<uint32_t>(cur.prev2), static_cast<uint32_t>(cur.prev1), t));
  }
  for (uint32_t k : keys) out.push_back(hash(4, k, t));
  cur.prev2 = cur.prev1;
  cur.prev1 = token;
  ++cur.n_tokens;
}

void Featurizer::extend(FeaturizerState& s, const int32_t* tokens, size_t n) const {
  IRO_REQUIRE_ARG(!s.ended, "cannot extend a response that has ended");
  for (size_t i = 0; i < n; ++i) {
    IRO_REQUIRE_ARG(tokens[i] >= 0, "token ids must be non-negative");
    step(s.prompt_keys, s.cursor, tokens[i], s.ids);
  }
}

float Featurizer::accumulated_weight(int32_t n_tokens) const {
  if (n_tokens <= 0) return 0.0f;
  switch (config_.pooling) {
    case 1: return 1.0f / std::sqrt(static_cast<float>(n_tokens));
    case 2: return 1.0f / static_cast<float>(n_tokens);
    default: return 1.0f;
  }
}

uint32_t Featurizer::position_id(int32_t n) const {
  int32_t b = 0;
  if (n > 0) {
    b = 1;
    for (int32_t v = n; v > 1; v >>= 1) ++b;
  }
  if (b > config_.position_buckets - 1) b = config_.position_buckets - 1;
  return hash(5, static_cast<uint32_t>(b));
}

uint32_t Featurizer::end_id() const { return hash(6, 1); }

void Featurizer::emit(const FeaturizerState& s, std::vector<uint32_t>& ids, std::vector<float>& weights) const {
  const float w = accumulated_weight(s.cursor.n_tokens);
  ids.insert(ids.end(), s.ids.begin(), s.ids.end());
  weights.insert(weights.end(), s.ids.size(), w);
  ids.push_back(position_id(s.cursor.n_tokens));
  weights.push_back(1.0f);
  if (s.ended) {
    ids.push_back(end_id());
    weights.push_back(1.0f);
  }
}

}  // namespace iro::value
