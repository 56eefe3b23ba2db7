#include "native/kernels/sampler.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

#include "native/common/det_exp.h"
#include "native/common/error.h"

namespace iro {

void validate_sampling(const SamplingParams& p) {
  IRO_REQUIRE_ARG(std::isfinite(p.temperature) && p.temperature >= 0.0f && p.temperature <= 100.0f,
              "temperature must be a number in [0, 100] (0 = greedy), got " + std::to_string(p.temperature));
  IRO_REQUIRE_ARG(p.top_k >= 0, "topK must be >= 0 (0 = no limit), got " + std::to_string(p.top_k));
  IRO_REQUIRE_ARG(std::isfinite(p.top_p) && p.top_p > 0.0f && p.top_p <= 1.0f, "topP must be in (0, 1], got " + std::to_string(p.top_p));
  IRO_REQUIRE_ARG(std::isfinite(p.min_p) && p.min_p >= 0.0f && p.min_p < 1.0f, "minP must be in [0, 1), got " + std::to_string(p.min_p));
}

float token_logprob(const float* logits, int32_t n_vocab, int32_t token) {
  float mx = -std::numeric_limits<float>::infinity();
  for (int32_t i = 0; i < n_vocab; ++i) mx = std::max(mx, logits[i]);
  double sum = 0.0;
  for (int32_t i = 0; i < n_vocab; ++i) sum += std::exp(static_cast<double>(logits[i]) - mx);
  return static_cast<float>(static_cast<double>(logits[token]) - mx - std::log(sum));
}

namespace {
// Higher logit first, then lower token id: a strict total order, so every sort agrees.
inline bool better(const std::pair<float, int32_t>& a, const std::pair<float, int32_t>& b) {
  return a.first > b.first || (a.first == b.first && a.second < b.second);
}
}  // namespace

SampledToken sample_token(const float* logits, int32_t n_vocab, const SamplingParams& params, const RngKey& key,
                          SamplerScratch& scratch) {
  SampledToken out;
  if (params.temperature <= 0.0f) {
    int32_t best = 0;
    for (int32_t i = 1; i < n_vocab; ++i) if (logits[i] > logits[best]) best = i;
    out.token = best;
  } else {
    auto& cand = scratch.candidates;
    cand.resize(static_cast<size_t>(n_vocab));
    for (int32_t i = 0; i < n_vocab; ++i) cand[static_cast<size_t>(i)] = {logits[i], i};
    const int32_t k = (params.top_k <= 0 || params.top_k >= n_vocab) ? n_vocab : params.top_k;
    if (k < n_vocab) {
      std::nth_element(cand.begin(), cand.begin() + k, cand.end(), better);
      cand.resize(static_cast<size_t>(k));
    }
    std::sort(cand.begin(), cand.end(), better);

    auto& p = scratch.probs;
    p.resize(cand.size());
    const double inv_t = 1.0 / static_cast<double>(params.temperature);
    const double top = static_cast<double>(cand[0].first);
    // det_exp, not std::exp: the CUDA twin computes the same bits (glibc's and CUDA's exp may differ
    // in the last ulp, which could move a token at a cumulative boundary).
    for (size_t i = 0; i < cand.size(); ++i) p[i] = (static_cast<double>(cand[i].first) - top) * inv_t;
    det_exp_array(p.data(), p.size());
    double total = 0.0;
    for (size_t i = 0; i < cand.size(); ++i) total += p[i];
    size_t kept = cand.size();
    if (params.min_p > 0.0f) {
      const double floor = static_cast<double>(params.min_p) * (p[0] / total);
      size_t n = 1;
      while (n < kept && p[n] / total >= floor) ++n;  // probabilities are non-increasing
      kept = n;
    }
    if (params.top_p < 1.0f) {
      double cum = 0.0;
      size_t n = 0;
      while (n < kept) {
        cum += p[n] / total;
        ++n;
        if (cum >= static_cast<double>(params.top_p)) break;
      }
      kept = std::max<size_t>(1, n);
    }
    double mass = 0.0;
    for (size_t i = 0; i < kept; ++i) mass += p[i];
    const double target = static_cast<double>(rng_uniform(key)) * mass;
    double cum = 0.0;
    out.token = cand[kept - 1].second;
    for (size_t i = 0; i < kept; ++i) {
      cum += p[i];
      if (cum > target) {
        out.token = cand[i].second;
        break;
      }
    }
  }
  out.logprob = token_logprob(logits, n_vocab, out.token);
  out.prob = std::exp(out.logprob);
  return out;
}

}  // namespace iro
