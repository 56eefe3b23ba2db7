#include "native/kernels/resample.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <string>
#include <unordered_set>
#include <vector>

#include "native/common/error.h"
#include "native/common/rng.h"
#include "native/common/threads.h"

namespace iro {
namespace {

constexpr float kNegInf = -std::numeric_limits<float>::infinity();

void validate_offsets(const int32_t* offsets, int32_t n_segments, const char* what) {
  require_arg(n_segments >= 0, std::string("number of segments must be >= 0, got ") + std::to_string(n_segments));
  require_arg(offsets != nullptr, std::string(what) + " are required (n_segments + 1 entries)");
  require_arg(offsets[0] >= 0, std::string(what) + "[0] must be >= 0, got " + std::to_string(offsets[0]));
  for (int32_t s = 0; s < n_segments; ++s) {
    require_arg(offsets[s + 1] >= offsets[s], std::string(what) + " must be non-decreasing (segment " + std::to_string(s) + " ends at " +
                                                  std::to_string(offsets[s + 1]) + " before it starts at " + std::to_string(offsets[s]) + ")");
  }
}

void validate_tau(float tau) {
  require_arg(std::isfinite(tau) && tau > 0.0f, "temperature tau must be finite and > 0, got " + std::to_string(tau));
}

// Strict total order: higher score, then lower index (-inf naturally last).
struct Better {
  const float* s;
  bool operator()(int32_t a, int32_t b) const { return s[a] > s[b] || (s[a] == s[b] && a < b); }
};

// Weights and blocked CDF of one segment (see the header); returns total.
double segment_cdf(const float* s, int32_t n, float tau, std::vector<double>& w, std::vector<double>& cdf) {
  float m = kNegInf;
  for (int32_t i = 0; i < n; ++i) m = std::max(m, s[i]);
  w.resize(static_cast<size_t>(n));
  cdf.resize(static_cast<size_t>(n));
  const double dm = m, dt = tau;
  for (int32_t i = 0; i < n; ++i) w[i] = s[i] == kNegInf ? 0.0 : std::exp((static_cast<double>(s[i]) - dm) / dt);
  double carry = 0.0;
  for (int32_t b = 0; b < n; b += kCdfBlock) {
    const int32_t e = std::min(n, b + kCdfBlock);
    double acc = 0.0;
    for (int32_t i = b; i < e; ++i) {
      acc += w[i];
      cdf[i] = acc;
    }
    for (int32_t i = b; i < e; ++i) cdf[i] += carry;
    carry += acc;
  }
  return cdf[static_cast<size_t>(n) - 1];
}

// First index with cdf > target; falls back to the last positive weight.
inline int32_t pick(const std::vector<double>& w, const std::vector<double>& cdf, double target) {
  const auto it = std::upper_bound(cdf.begin(), cdf.end(), target);
  if (it != cdf.end()) return static_cast<int32_t>(it - cdf.begin());
  int32_t i = static_cast<int32_t>(w.size()) - 1;
  while (i > 0 && w[i] <= 0.0) --i;
  return i;
}

void validate_w(const int32_t* offsets, int32_t n_segments, int32_t w) {
  require_arg(w >= 0, "w must be >= 0, got " + std::to_string(w));
  for (int32_t s = 0; s < n_segments; ++s) {
    require_arg(offsets[s + 1] - offsets[s] >= w, "segment " + std::to_string(s) + " has " + std::to_string(offsets[s + 1] - offsets[s]) +
                                                      " candidates, fewer than w = " + std::to_string(w));
  }
}

}  // namespace

void validate_segment_scores(const float* scores, const int32_t* offsets, int32_t n_segments) {
  validate_offsets(offsets, n_segments, "score offsets");
  if (n_segments > 0 && offsets[n_segments] > offsets[0]) require_arg(scores != nullptr, "scores are required");
  for (int32_t s = 0; s < n_segments; ++s) {
    bool finite = false;
    for (int32_t j = offsets[s]; j < offsets[s + 1]; ++j) {
      const float v = scores[j];
      if (std::isnan(v)) fail(codes::kInvalidArgument, "score " + std::to_string(j - offsets[s]) + " of segment " + std::to_string(s) +
                                                           " is NaN; scores must be finite numbers or -Infinity");
      if (v == std::numeric_limits<float>::infinity())
        fail(codes::kInvalidArgument, "score " + std::to_string(j - offsets[s]) + " of segment " + std::to_string(s) +
                                          " is +Infinity; scores must be finite numbers or -Infinity");
      finite = finite || v != kNegInf;
    }
    require_arg(finite || offsets[s + 1] == offsets[s], "every score of segment " + std::to_string(s) +
                                                            " is -Infinity; a segment needs at least one finite score");
  }
}

void softmax_weights(const float* scores, const int32_t* offsets, int32_t n_segments, float tau, float* log_weights,
                     float* ess, int threads) {
  validate_tau(tau);
  validate_segment_scores(scores, offsets, n_segments);
  parallel_for(static_cast<size_t>(n_segments), threads, 1, [&](size_t b, size_t e) {
    std::vector<double> w, cdf;
    for (size_t s = b; s < e; ++s) {
      const int32_t n = offsets[s + 1] - offsets[s];
      if (n == 0) {
        if (ess) ess[s] = 0.0f;
        continue;
      }
      const float* sc = scores + offsets[s];
      const double total = segment_cdf(sc, n, tau, w, cdf);
      if (log_weights) {
        float m = kNegInf;
        for (int32_t i = 0; i < n; ++i) m = std::max(m, sc[i]);
        const double lt = std::log(total);
        for (int32_t i = 0; i < n; ++i)
          log_weights[offsets[s] + i] = sc[i] == kNegInf ? kNegInf : static_cast<float>((static_cast<double>(sc[i]) - m) / tau - lt);
      }
      if (ess) {
        double sq = 0.0;
        for (int32_t i = 0; i < n; ++i) sq += w[i] * w[i];
        ess[s] = static_cast<float>(total * total / sq);
      }
    }
  });
}

void resample(const float* scores, const int32_t* offsets, int32_t n_segments, float tau, ResampleMethod method,
              const int32_t* draw_offsets, uint64_t seed, uint32_t step, const uint32_t* request_ids, int32_t* draws,
              int threads) {
  validate_tau(tau);
  require_arg(method == ResampleMethod::kSystematic || method == ResampleMethod::kStratified || method == ResampleMethod::kMultinomial,
              "unknown resampling method " + std::to_string(static_cast<int>(method)));
  validate_segment_scores(scores, offsets, n_segments);
  validate_offsets(draw_offsets, n_segments, "draw offsets");
  for (int32_t s = 0; s < n_segments; ++s)
    require_arg(draw_offsets[s + 1] == draw_offsets[s] || offsets[s + 1] > offsets[s],
                "segment " + std::to_string(s) + " has no candidates but asks for draws");
  parallel_for(static_cast<size_t>(n_segments), threads, 1, [&](size_t b, size_t e) {
    std::vector<double> w, cdf;
    for (size_t s = b; s < e; ++s) {
      const int32_t nd = draw_offsets[s + 1] - draw_offsets[s];
      if (nd == 0) continue;
      const double total = segment_cdf(scores + offsets[s], offsets[s + 1] - offsets[s], tau, w, cdf);
      RngKey key{seed, request_ids ? request_ids[s] : static_cast<uint32_t>(s), 0, step, kResampleLane};
      int32_t* out = draws + draw_offsets[s];
      const double u0 = method == ResampleMethod::kSystematic ? static_cast<double>(rng_uniform(key)) : 0.0;
      for (int32_t i = 0; i < nd; ++i) {
        double p;
        key.sequence = static_cast<uint32_t>(i);
        if (method == ResampleMethod::kSystematic) p = (u0 + i) / nd;
        else if (method == ResampleMethod::kStratified) p = (i + static_cast<double>(rng_uniform(key))) / nd;
        else p = static_cast<double>(rng_uniform(key));
        out[i] = pick(w, cdf, p * total);
      }
    }
  });
}

void top_w(const float* scores, const int32_t* offsets, int32_t n_segments, int32_t w, int32_t* out, int threads) {
  validate_segment_scores(scores, offsets, n_segments);
  validate_w(offsets, n_segments, w);
  parallel_for(static_cast<size_t>(n_segments), threads, 1, [&](size_t b, size_t e) {
    std::vector<int32_t> idx;
    for (size_t s = b; s < e; ++s) {
      const int32_t n = offsets[s + 1] - offsets[s];
      idx.resize(static_cast<size_t>(n));
      std::iota(idx.begin(), idx.end(), 0);
      std::partial_sort(idx.begin(), idx.begin() + w, idx.end(), Better{scores + offsets[s]});
      std::copy(idx.begin(), idx.begin() + w, out + s * static_cast<size_t>(w));
    }
  });
}

void diverse_top_w(const float* scores, const uint64_t* hashes, const int32_t* offsets, int32_t n_segments, int32_t w,
                   int32_t* out, int threads) {
  validate_segment_scores(scores, offsets, n_segments);
  validate_w(offsets, n_segments, w);
  if (n_segments > 0 && offsets[n_segments] > offsets[0]) require_arg(hashes != nullptr, "continuation hashes are required");
  parallel_for(static_cast<size_t>(n_segments), threads, 1, [&](size_t b, size_t e) {
    std::vector<int32_t> idx;
    std::vector<char> taken;
    std::unordered_set<uint64_t> seen;
    for (size_t s = b; s < e; ++s) {
      const int32_t n = offsets[s + 1] - offsets[s];
      const float* sc = scores + offsets[s];
      const uint64_t* hs = hashes + offsets[s];
      idx.resize(static_cast<size_t>(n));
      std::iota(idx.begin(), idx.end(), 0);
      std::sort(idx.begin(), idx.end(), Better{sc});
      taken.assign(static_cast<size_t>(n), 0);
      seen.clear();
      int32_t* o = out + s * static_cast<size_t>(w);
      int32_t got = 0;
      for (int32_t r = 0; r < n && got < w && sc[idx[r]] != kNegInf; ++r) {
        if (seen.insert(hs[idx[r]]).second) {
          taken[idx[r]] = 1;
          o[got++] = idx[r];
        }
      }
      // Then the best duplicates, then the dead (-inf) ones, both in rank order (-inf sort last by index).
      for (int32_t r = 0; r < n && got < w; ++r) {
        if (!taken[idx[r]]) o[got++] = idx[r];
      }
    }
  });
}

void group_best(const float* scores, const int32_t* offsets, int32_t n_segments, int32_t k, int32_t* out, int threads) {
  validate_segment_scores(scores, offsets, n_segments);
  require_arg(k >= 1, "k (children per group) must be >= 1, got " + std::to_string(k));
  for (int32_t s = 0; s < n_segments; ++s)
    require_arg((offsets[s + 1] - offsets[s]) % k == 0, "segment " + std::to_string(s) + " has " + std::to_string(offsets[s + 1] - offsets[s]) +
                                                           " candidates, not a multiple of k = " + std::to_string(k));
  parallel_for(static_cast<size_t>(n_segments), threads, 1, [&](size_t b, size_t e) {
    for (size_t s = b; s < e; ++s) {
      const float* sc = scores + offsets[s];
      const int32_t groups = (offsets[s + 1] - offsets[s]) / k;
      int32_t* o = out + (offsets[s] - offsets[0]) / k;
      for (int32_t g = 0; g < groups; ++g) {
        int32_t best = g * k;
        for (int32_t j = g * k + 1; j < g * k + k; ++j)
          if (sc[j] > sc[best]) best = j;
        o[g] = best;
      }
    }
  });
}

}  // namespace iro
