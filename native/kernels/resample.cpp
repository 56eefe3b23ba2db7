#include "native/kernels/resample.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <memory>
#include <numeric>
#include <string>
#include <unordered_set>
#include <vector>

#include "native/common/det_exp.h"
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

// Uninitialised double scratch that only grows (a zero-filled vector costs a memset per call).
class Scratch {
 public:
  void resize(size_t n) {
    if (n > cap_) {
      p_.reset(new double[n]);
      cap_ = n;
    }
  }
  double* data() { return p_.get(); }

 private:
  std::unique_ptr<double[]> p_;
  size_t cap_ = 0;
};

// w_i of one CDF block, then its in-block inclusive prefix plus `carry` (the header's association:
// cdf_i = in-block prefix + carry, one rounding). Returns the block's in-block total. Cloned for AVX2
// (no FMA): the exp loop vectorises with identical results.
__attribute__((target_clones("avx2", "default"))) double cdf_block(const float* __restrict s, int32_t n, double m, double tau,
                                                                   double carry, double* __restrict cdf) {
  double w[kCdfBlock];
  for (int32_t i = 0; i < n; ++i) w[i] = det_exp((static_cast<double>(s[i]) - m) / tau);  // -inf scores give +0
  double acc = 0.0;
  for (int32_t i = 0; i < n; ++i) {
    acc += w[i];
    cdf[i] = acc + carry;
  }
  return acc;
}

float segment_max(const float* s, int32_t n) {
  float m = kNegInf;
  for (int32_t i = 0; i < n; ++i) m = s[i] > m ? s[i] : m;
  return m;
}

// Blocked CDF of one segment (see the header) into cdf[0..n-1]; returns total. With threads > 1 the
// blocks are split across threads (in-block prefixes first, then the carries added): the same
// association, so the same bits.
double segment_cdf(const float* s, int32_t n, float tau, double* cdf, int threads, double* max_out = nullptr) {
  const double m = segment_max(s, n), dt = tau;
  if (max_out) *max_out = m;
  const int32_t n_blocks = (n + kCdfBlock - 1) / kCdfBlock;
  if (threads <= 1 || n_blocks < 64) {
    double carry = 0.0;
    for (int32_t b = 0; b < n_blocks; ++b) {
      const int32_t lo = b * kCdfBlock, len = std::min(kCdfBlock, n - lo);
      carry += cdf_block(s + lo, len, m, dt, carry, cdf + lo);
    }
    return cdf[n - 1];
  }
  std::vector<double> block_total(static_cast<size_t>(n_blocks)), block_carry(static_cast<size_t>(n_blocks));
  parallel_for(static_cast<size_t>(n_blocks), threads, 16, [&](size_t b0, size_t b1) {
    for (size_t b = b0; b < b1; ++b) {
      const int32_t lo = static_cast<int32_t>(b) * kCdfBlock, len = std::min(kCdfBlock, n - lo);
      block_total[b] = cdf_block(s + lo, len, m, dt, 0.0, cdf + lo);
    }
  });
  double carry = 0.0;
  for (int32_t b = 0; b < n_blocks; ++b) {
    block_carry[static_cast<size_t>(b)] = carry;
    carry += block_total[static_cast<size_t>(b)];
  }
  parallel_for(static_cast<size_t>(n_blocks), threads, 16, [&](size_t b0, size_t b1) {
    for (size_t b = b0; b < b1; ++b) {
      const double c = block_carry[b];
      if (c == 0.0) continue;  // x + 0.0 == x
      const int32_t lo = static_cast<int32_t>(b) * kCdfBlock, hi = std::min(n, lo + kCdfBlock);
      for (int32_t i = lo; i < hi; ++i) cdf[i] += c;
    }
  });
  return cdf[n - 1];
}

// The last index with a positive weight (the fallback of a draw when rounding leaves no cdf > target).
int32_t last_positive(const float* s, int32_t n, double m, double tau) {
  int32_t i = n - 1;
  while (i > 0 && !(det_exp((static_cast<double>(s[i]) - m) / tau) > 0.0)) --i;
  return i;
}

// First index in [lo, hi) with cdf > target, else hi.
inline int32_t first_above(const double* cdf, int32_t lo, int32_t hi, double target) {
  while (hi - lo > 8) {
    const int32_t mid = lo + (hi - lo) / 2;
    if (cdf[mid] > target) hi = mid; else lo = mid + 1;
  }
  while (lo < hi && !(cdf[lo] > target)) ++lo;
  return lo;
}

// 24-bit uniform numerators v (u = v / 2^24) of draws [i0, i0 + n): vectorisable Philox.
__attribute__((target_clones("avx2", "default"))) void uniform_numerators(RngKey key, int32_t i0, int32_t n, uint32_t* __restrict v) {
  const uint32_t k0 = static_cast<uint32_t>(key.seed), k1 = static_cast<uint32_t>(key.seed >> 32);
  for (int32_t i = 0; i < n; ++i)
    v[i] = philox4x32(key.request, static_cast<uint32_t>(i0 + i), key.position, key.lane, k0, k1) >> 8;
}

constexpr double kInv24 = 1.0 / 16777216.0;  // v * 2^-24 is exact: the same double as rng_uniform's float

// Draws [d0, d1) of one segment (n candidates, nd draws in all) into out[d0..d1).
void draw_range(const double* cdf, int32_t n, double total, int32_t fallback, const int32_t* guide, int32_t guide_bits,
                ResampleMethod method, RngKey key, int32_t nd, int32_t d0, int32_t d1, int32_t* out) {
  constexpr int32_t kChunk = 256;
  uint32_t v[kChunk];
  if (method == ResampleMethod::kMultinomial) {
    for (int32_t c0 = d0; c0 < d1; c0 += kChunk) {
      const int32_t len = std::min(kChunk, d1 - c0);
      uniform_numerators(key, c0, len, v);
      for (int32_t i = 0; i < len; ++i) {
        const double target = (static_cast<double>(v[i]) * kInv24) * total;
        int32_t lo = 0, hi = n;
        if (guide) {
          const uint32_t b = v[i] >> (24 - guide_bits);
          lo = guide[b];
          hi = guide[b + 1];
        }
        const int32_t a = first_above(cdf, lo, hi, target);
        out[c0 + i] = guide || a < n ? a : fallback;
      }
    }
    return;
  }
  // Systematic and stratified targets never decrease with the draw index: one forward merge of
  // the targets with the CDF (cdf[n] = +inf is a sentinel the merge never passes).
  const double u0 = method == ResampleMethod::kSystematic ? static_cast<double>(rng_uniform(key)) : 0.0;
  double t[kChunk];
  int32_t pos = -1;
  for (int32_t c0 = d0; c0 < d1; c0 += kChunk) {
    const int32_t len = std::min(kChunk, d1 - c0);
    if (method == ResampleMethod::kStratified) {
      uniform_numerators(key, c0, len, v);
      for (int32_t k = 0; k < len; ++k) t[k] = ((c0 + k) + static_cast<double>(v[k]) * kInv24) / nd * total;
    } else {
      for (int32_t k = 0; k < len; ++k) t[k] = (u0 + (c0 + k)) / nd * total;
    }
    int32_t* o = out + c0;
    bool monotone = true;
    for (int32_t k = 1; k < len; ++k) monotone &= t[k] >= t[k - 1];
    if (!monotone) {  // never for these methods (see the header); kept exact anyway
      for (int32_t k = 0; k < len; ++k) o[k] = first_above(cdf, 0, n, t[k]);
      pos = -1;
    } else {
      if (pos < 0 || (pos > 0 && cdf[pos - 1] > t[0])) pos = first_above(cdf, 0, n, t[0]);
      for (int32_t k = 0; k < len; ++k) {
        while (!(cdf[pos] > t[k])) ++pos;
        o[k] = pos;
      }
    }
    for (int32_t k = 0; k < len; ++k) o[k] = o[k] == n ? fallback : o[k];
  }
}

// guide[b] = the draw for the smallest numerator of bucket b (b = v >> (24 - bits)), b = 0..2^bits;
// guide[2^bits] = the draw at u = 1. Draws are monotone in v, so a numerator of bucket b draws from
// [guide[b], guide[b+1]]: the first index there with cdf > target, else guide[b+1].
void build_guide(const double* cdf, int32_t n, double total, int32_t fallback, int32_t bits, std::vector<int32_t>& guide) {
  const uint32_t nb = 1u << bits;
  guide.resize(static_cast<size_t>(nb) + 1);
  int32_t pos = 0;
  for (uint32_t b = 0; b <= nb; ++b) {
    const double target = (static_cast<double>(static_cast<uint64_t>(b) << (24 - bits)) * kInv24) * total;
    while (pos < n && !(cdf[pos] > target)) ++pos;
    guide[b] = pos < n ? pos : fallback;
  }
}

void validate_w(const int32_t* offsets, int32_t n_segments, int32_t w) {
  require_arg(w >= 0, "w must be >= 0, got " + std::to_string(w));
  for (int32_t s = 0; s < n_segments; ++s) {
    require_arg(offsets[s + 1] - offsets[s] >= w, "segment " + std::to_string(s) + " has " + std::to_string(offsets[s + 1] - offsets[s]) +
                                                      " candidates, fewer than w = " + std::to_string(w));
  }
}

// Fast check (integer tests on the bits, vectorisable): no NaN, no +inf, and some score other than
// -inf when the segment is not empty. On failure the caller's scalar loop names the culprit.
__attribute__((target_clones("avx2", "default"))) bool segment_scores_ok(const float* s, int32_t n) {
  uint32_t bad = 0, finite = 0;
  for (int32_t i = 0; i < n; ++i) {
    uint32_t b;
    std::memcpy(&b, s + i, sizeof b);
    const uint32_t mag = b & 0x7fffffffu;
    bad |= static_cast<uint32_t>(mag > 0x7f800000u) | static_cast<uint32_t>(b == 0x7f800000u);  // NaN, +inf
    finite |= static_cast<uint32_t>(b != 0xff800000u);                                           // not -inf
  }
  return bad == 0 && (finite != 0 || n == 0);
}

}  // namespace

void validate_segment_scores(const float* scores, const int32_t* offsets, int32_t n_segments) {
  validate_offsets(offsets, n_segments, "score offsets");
  if (n_segments > 0 && offsets[n_segments] > offsets[0]) require_arg(scores != nullptr, "scores are required");
  for (int32_t s = 0; s < n_segments; ++s) {
    if (segment_scores_ok(scores + offsets[s], offsets[s + 1] - offsets[s])) continue;
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
  // Many segments: one thread per segment. Few: segments in turn, each split across the threads.
  const bool inner = n_segments < std::max(1, threads);
  parallel_for(static_cast<size_t>(n_segments), inner ? 1 : threads, 1, [&](size_t b, size_t e) {
    Scratch cdf;
    for (size_t s = b; s < e; ++s) {
      const int32_t n = offsets[s + 1] - offsets[s];
      if (n == 0) {
        if (ess) ess[s] = 0.0f;
        continue;
      }
      const float* sc = scores + offsets[s];
      cdf.resize(static_cast<size_t>(n) + 1);
      double m = 0.0;
      const double total = segment_cdf(sc, n, tau, cdf.data(), inner ? threads : 1, &m);
      if (log_weights) {
        const double lt = std::log(total);
        for (int32_t i = 0; i < n; ++i)
          log_weights[offsets[s] + i] = sc[i] == kNegInf ? kNegInf : static_cast<float>((static_cast<double>(sc[i]) - m) / tau - lt);
      }
      if (ess) {
        double sq = 0.0;
        for (int32_t i = 0; i < n; ++i) {
          const double w = det_exp((static_cast<double>(sc[i]) - m) / static_cast<double>(tau));
          sq += w * w;
        }
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
    if (draw_offsets[s + 1] != draw_offsets[s] && offsets[s + 1] == offsets[s])
      fail(codes::kInvalidArgument, "segment " + std::to_string(s) + " has no candidates but asks for draws");
  const bool inner = n_segments < std::max(1, threads);
  parallel_for(static_cast<size_t>(n_segments), inner ? 1 : threads, 1, [&](size_t b, size_t e) {
    Scratch cdf;
    std::vector<int32_t> guide;
    for (size_t s = b; s < e; ++s) {
      const int32_t nd = draw_offsets[s + 1] - draw_offsets[s];
      if (nd == 0) continue;
      const int32_t n = offsets[s + 1] - offsets[s];
      const float* sc = scores + offsets[s];
      cdf.resize(static_cast<size_t>(n) + 1);
      double m = 0.0;
      const int tin = inner ? threads : 1;
      const double total = segment_cdf(sc, n, tau, cdf.data(), tin, &m);
      cdf.data()[n] = std::numeric_limits<double>::infinity();
      const int32_t fallback = last_positive(sc, n, m, tau);
      const RngKey key{seed, request_ids ? request_ids[s] : static_cast<uint32_t>(s), 0, step, kResampleLane};
      // Multinomial draws from many candidates go through a guide table of ~min(n, nd) buckets.
      int32_t bits = 0;
      const int32_t* g = nullptr;
      if (method == ResampleMethod::kMultinomial && n > 64 && nd > 64) {
        while (bits < 24 && (int64_t{1} << bits) < std::min(n, nd)) ++bits;
        build_guide(cdf.data(), n, total, fallback, bits, guide);
        g = guide.data();
      }
      int32_t* out = draws + draw_offsets[s];
      parallel_for(static_cast<size_t>(nd), tin, 4096, [&](size_t d0, size_t d1) {
        draw_range(cdf.data(), n, total, fallback, g, bits, method, key, nd, static_cast<int32_t>(d0), static_cast<int32_t>(d1), out);
      });
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
