#include "native/kernels/resample.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <new>
#include <limits>
#include <memory>
#include <numeric>
#include <string>
#include <unordered_set>
#include <vector>

#include "native/common/det_exp.h"
#include "native/common/error.h"
#include "native/common/huge_pages.h"
#include "native/common/rng.h"
#include "native/common/threads.h"

namespace iro {
namespace {

constexpr float kNegInf = -std::numeric_limits<float>::infinity();

void validate_offsets(const int32_t* offsets, int32_t n_segments, const char* what) {
  IRO_REQUIRE_ARG(n_segments >= 0, std::string("number of segments must be >= 0, got ") + std::to_string(n_segments));
  IRO_REQUIRE_ARG(offsets != nullptr, std::string(what) + " are required (n_segments + 1 entries)");
  IRO_REQUIRE_ARG(offsets[0] >= 0, std::string(what) + "[0] must be >= 0, got " + std::to_string(offsets[0]));
  for (int32_t s = 0; s < n_segments; ++s) {
    IRO_REQUIRE_ARG(offsets[s + 1] >= offsets[s], std::string(what) + " must be non-decreasing (segment " + std::to_string(s) + " ends at " +
                                                  std::to_string(offsets[s + 1]) + " before it starts at " + std::to_string(offsets[s]) + ")");
  }
}

void validate_tau(float tau) {
  IRO_REQUIRE_ARG(std::isfinite(tau) && tau > 0.0f, "temperature tau must be finite and > 0, got " + std::to_string(tau));
}

// Strict total order: higher score, then lower index (-inf naturally last).
struct Better {
  const float* s;
  bool operator()(int32_t a, int32_t b) const { return s[a] > s[b] || (s[a] == s[b] && a < b); }
};

// Uninitialised scratch that only grows (a zero-filled vector costs a memset per call), in huge
// pages when large (fewer page faults when fresh, fewer TLB misses).
template <typename T>
class Scratch {
 public:
  void resize(size_t n) {
    if (n <= cap_) return;
    p_.reset();
    p_.reset(static_cast<T*>(huge_page_alloc(n * sizeof(T))));
    cap_ = n;
  }
  T* data() { return p_.get(); }

 private:
  struct Free {
    void operator()(T* p) const { std::free(p); }
  };
  std::unique_ptr<T[], Free> p_;
  size_t cap_ = 0;
};

}  // namespace

struct ResampleWorkspace::Buffers {
  Scratch<double> cdf, targets;
  Scratch<int32_t> guide;
  Scratch<uint32_t> numerators;
};
ResampleWorkspace::ResampleWorkspace() : buffers_(new Buffers) {}
ResampleWorkspace::~ResampleWorkspace() = default;

namespace {

// Largest score of a segment, via order-preserving integer keys of the float bits (scores are
// validated: no NaN) so that the reduction vectorises. +0 and -0 may come out either way: m only
// appears in s - m, where the sign of a zero difference does not matter.
__attribute__((target_clones("avx2", "default"))) float segment_max(const float* s, int32_t n) {
  int32_t best = INT32_MIN;
  for (int32_t i = 0; i < n; ++i) {
    int32_t b;
    std::memcpy(&b, s + i, sizeof b);
    const int32_t key = b ^ ((b >> 31) & 0x7fffffff);
    best = key > best ? key : best;
  }
  const int32_t b = best ^ ((best >> 31) & 0x7fffffff);
  float m;
  std::memcpy(&m, &b, sizeof m);
  return m;
}

// The CDF of one segment as the contract builds it: in-block inclusive prefix sums `pre` plus, per
// block, the sum of the previous block totals (`carry`); C_i = pre_i + carry[block of i] is the
// header's single rounding. Keeping the two apart saves a pass over the segment: consumers add the
// carry when they read C_i.
struct BlockedCdf {
  const double* pre = nullptr;
  std::vector<double> carry;
  double total = 0.0;
  double max = 0.0;
  double at(int32_t i) const { return pre[i] + carry[static_cast<size_t>(i / kCdfBlock)]; }
};

// In-block prefix sums of blocks [b0, b1) into pre, block totals into totals[b]. Weights come from
// det_exp_lanes (bit-identical to det_exp); four blocks are summed at once because each block's sum
// is one serial chain of adds, and four independent chains run in the time of one. Cloned for AVX2
// (no FMA): the same bits either way.
__attribute__((target_clones("avx2", "default"))) void cdf_blocks(const float* __restrict s, int32_t n, int32_t b0, int32_t b1, double m,
                                                                  double tau, double* __restrict pre, double* __restrict totals) {
  constexpr int32_t kGroup = 4;
  double z[kDetExpLanes];
  for (int32_t g = b0; g < b1; g += kGroup) {
    const int32_t lo = g * kCdfBlock, hi = std::min(n, std::min(b1, g + kGroup) * kCdfBlock);
    int32_t i = lo;
    for (; i + kDetExpLanes <= hi; i += kDetExpLanes) {
      for (int32_t l = 0; l < kDetExpLanes; ++l) z[l] = (static_cast<double>(s[i + l]) - m) / tau;  // -inf scores give +0
      det_exp_lanes(z, pre + i);
    }
    for (; i < hi; ++i) pre[i] = det_exp((static_cast<double>(s[i]) - m) / tau);
    if (hi - lo == kGroup * kCdfBlock) {
      double acc[kGroup] = {0.0, 0.0, 0.0, 0.0};
      for (int32_t j = 0; j < kCdfBlock; ++j) {
        for (int32_t q = 0; q < kGroup; ++q) {
          acc[q] += pre[lo + q * kCdfBlock + j];
          pre[lo + q * kCdfBlock + j] = acc[q];
        }
      }
      for (int32_t q = 0; q < kGroup; ++q) totals[g + q] = acc[q];
    } else {
      for (int32_t b = g; b * kCdfBlock < hi; ++b) {
        const int32_t e = std::min(hi, (b + 1) * kCdfBlock);
        double acc = 0.0;
        for (int32_t j = b * kCdfBlock; j < e; ++j) {
          acc += pre[j];
          pre[j] = acc;
        }
        totals[b] = acc;
      }
    }
  }
}

// Builds the blocked CDF of one segment (see the header) into `pre` (n entries). Blocks are split
// across threads; the carries are summed in block order afterwards: the same association, so the
// same bits whatever the thread count.
BlockedCdf segment_cdf(const float* s, int32_t n, float tau, double* pre, int threads) {
  BlockedCdf c;
  c.pre = pre;
  const int32_t n_blocks = (n + kCdfBlock - 1) / kCdfBlock;
  const int t = n_blocks >= 64 ? threads : 1;
  if (t <= 1) {
    c.max = segment_max(s, n);
  } else {
    std::vector<float> part(static_cast<size_t>(t), kNegInf);
    parallel_for(static_cast<size_t>(t), t, 1, [&](size_t q0, size_t q1) {
      for (size_t q = q0; q < q1; ++q) {
        const int64_t lo = static_cast<int64_t>(n) * static_cast<int64_t>(q) / t, hi = static_cast<int64_t>(n) * static_cast<int64_t>(q + 1) / t;
        part[q] = segment_max(s + lo, static_cast<int32_t>(hi - lo));
      }
    });
    c.max = *std::max_element(part.begin(), part.end());
  }
  std::vector<double> totals(static_cast<size_t>(n_blocks));
  parallel_for(static_cast<size_t>(n_blocks), t, 16, [&](size_t b0, size_t b1) {
    cdf_blocks(s, n, static_cast<int32_t>(b0), static_cast<int32_t>(b1), c.max, tau, pre, totals.data());
  });
  c.carry.resize(static_cast<size_t>(n_blocks));
  double carry = 0.0;
  for (int32_t b = 0; b < n_blocks; ++b) {
    c.carry[static_cast<size_t>(b)] = carry;
    carry += totals[static_cast<size_t>(b)];
  }
  c.total = n > 0 ? c.at(n - 1) : 0.0;
  return c;
}

// The last index with a positive weight (the fallback of a draw when rounding leaves no cdf > target).
int32_t last_positive(const float* s, int32_t n, double m, double tau) {
  int32_t i = n - 1;
  while (i > 0 && !(det_exp((static_cast<double>(s[i]) - m) / tau) > 0.0)) --i;
  return i;
}

// First index in [lo, hi) with C > target, else hi.
inline int32_t first_above(const BlockedCdf& c, int32_t lo, int32_t hi, double target) {
  while (hi - lo > 8) {
    const int32_t mid = lo + (hi - lo) / 2;
    if (c.at(mid) > target) hi = mid; else lo = mid + 1;
  }
  while (lo < hi && !(c.at(lo) > target)) ++lo;
  return lo;
}

// 24-bit uniform numerators v (u = v / 2^24) of draws [i0, i0 + n): vectorisable Philox.
__attribute__((target_clones("avx2", "default"))) void uniform_numerators(RngKey key, int32_t i0, int32_t n, uint32_t* __restrict v) {
  const uint32_t k0 = static_cast<uint32_t>(key.seed), k1 = static_cast<uint32_t>(key.seed >> 32);
  for (int32_t i = 0; i < n; ++i)
    v[i] = philox4x32(key.request, static_cast<uint32_t>(i0 + i), key.position, key.lane, k0, k1) >> 8;
}

constexpr double kInv24 = 1.0 / 16777216.0;  // v * 2^-24 is exact: the same double as rng_uniform's float

// Sorted targets t[0..count) (non-decreasing) assigned to candidates: target k goes to the first
// candidate i with C_i > t_k, or to `fallback` when there is none. Done from the candidates' side:
// candidate i owns targets [K(i-1), K(i)) with K(i) = #{k : t_k < C_i}. No per-target search and no
// data-dependent branch in the common case, which is what made a target-side merge slow (one
// mispredicted branch per draw). Requires t[count] = +inf (sentinel).
//
// K(i) comes from x = C_i * scale - off, where the exact count is a closed form of x:
//   kCeil (systematic: t_k = (u0 + k) / nd * total, scale = nd / total, off = u0; guide buckets:
//          t_b = b * 2^-bits * total, scale = 2^bits / total, off = 0):    K = ceil(x)
//   kFloorStep (stratified: t_k = (k + u_k) / nd * total, u_k in [0, 1)):   K = floor(x) + [t_floor(x) < C]
// The rounding of t_k and of x moves the real boundary by a few ulps of x, so the closed form is
// exact unless x lies within (|x| + 2) * 2^-40 of an integer (~1e-6 of candidates at 10^6 draws);
// those blocks take the exact search (count_below) instead. The tests compare every draw with a
// binary-search reference.
enum class CountRule { kCeil, kFloorStep };

struct Targets {
  const double* t;
  int32_t count;
  double scale, off;
  CountRule rule;
  // Exact count by comparisons (an estimate, then steps).
  int32_t count_below(double c) const {
    int32_t k = static_cast<int32_t>(std::min(std::max(c * scale - off, 0.0), static_cast<double>(count)));
    while (t[k] < c) ++k;
    while (k > 0 && !(t[k - 1] < c)) --k;
    return k;
  }
};

// Closed-form counts of one CDF block's candidates (see above) into ks; returns false when some x is
// too close to an integer to trust them. Vectorises (no gathers, no branches).
__attribute__((target_clones("avx2", "default"))) bool closed_form_counts(const double* __restrict pre, double carry, int32_t len,
                                                                          const Targets& tg, int32_t* __restrict ks) {
  const double scale = tg.scale, off = tg.off, count = static_cast<double>(tg.count);
  const bool ceil_rule = tg.rule == CountRule::kCeil;
  int64_t suspect = 0;
  for (int32_t l = 0; l < len; ++l) {
    const double x = (pre[l] + carry) * scale - off;
    const double d = x - std::nearbyint(x);
    suspect |= static_cast<int64_t>(std::fabs(d) <= (std::fabs(x) + 2.0) * 0x1p-40);
    double xc = x > 0.0 ? x : 0.0;
    xc = xc < count ? xc : count;
    ks[l] = static_cast<int32_t>(ceil_rule ? std::ceil(xc) : std::floor(xc));
  }
  return suspect == 0;
}

// Candidates [i0, i1) of the segment fill their targets in out; `last` (i1 == n) also fills the
// targets that no candidate takes with the fallback. Per CDF block: the counts, then the block's
// targets [ka, kb) are filled without a data-dependent loop per candidate (whose trip counts of
// 0, 1, 2, ... mispredict): each candidate marks the first target of its range in a small buffer
// (an empty range's mark is overwritten by the next candidate, which starts at the same target),
// and a running maximum over the buffer spreads each mark over its range. A block whose targets
// do not fit the buffer (a few candidates with long runs) fills its runs directly.
__attribute__((target_clones("avx2", "default"))) void assign_targets(const BlockedCdf& c, const Targets& tg, int32_t i0, int32_t i1,
                                                                      int32_t fallback, bool last, int32_t* __restrict out) {
  constexpr int32_t kMarks = 4 * kCdfBlock;
  int32_t ks[kCdfBlock], marks[kMarks + 1];
  int32_t prev = i0 > 0 ? tg.count_below(c.at(i0 - 1)) : 0;
  for (int32_t i = i0; i < i1;) {
    const double carry = c.carry[static_cast<size_t>(i / kCdfBlock)];
    const int32_t len = std::min(i1, (i / kCdfBlock + 1) * kCdfBlock) - i;
    const double* pre = c.pre + i;
    if (closed_form_counts(pre, carry, len, tg, ks)) {
      if (tg.rule == CountRule::kFloorStep)
        for (int32_t l = 0; l < len; ++l) ks[l] += tg.t[ks[l]] < pre[l] + carry ? 1 : 0;
    } else {
      for (int32_t l = 0; l < len; ++l) ks[l] = tg.count_below(pre[l] + carry);
    }
    const int32_t ka = prev, kb = ks[len - 1], span = kb - ka;
    if (span <= kMarks) {
      for (int32_t q = 0; q < span; ++q) marks[q] = -1;
      int32_t start = ka;
      for (int32_t l = 0; l < len; ++l) {
        marks[start - ka] = i + l;  // start == kb (an empty tail) lands in the spare slot
        start = ks[l];
      }
      int32_t v = -1;
      for (int32_t q = 0; q < span; ++q) {
        v = marks[q] > v ? marks[q] : v;
        out[ka + q] = v;
      }
    } else {
      int32_t start = ka;
      for (int32_t l = 0; l < len; ++l) {
        for (int32_t j = start; j < ks[l]; ++j) out[j] = i + l;
        start = ks[l];
      }
    }
    prev = kb;
    i += len;
  }
  if (last)
    for (int32_t j = prev; j < tg.count; ++j) out[j] = fallback;
}

// Runs assign_targets over all candidates, split across threads by candidate ranges.
void assign_all(const BlockedCdf& c, int32_t n, const Targets& tg, int32_t fallback, int threads, int32_t* out) {
  parallel_for(static_cast<size_t>(n), threads, 4096, [&](size_t i0, size_t i1) {
    assign_targets(c, tg, static_cast<int32_t>(i0), static_cast<int32_t>(i1), fallback, i1 == static_cast<size_t>(n), out);
  });
}

// Systematic / stratified targets t_k = p_k * total for draws [k0, k1) (p_k from the header), in double.
__attribute__((target_clones("avx2", "default"))) void fill_targets(ResampleMethod method, RngKey key, double u0, int32_t nd, double total,
                                                                    int32_t k0, int32_t k1, double* __restrict t) {
  constexpr int32_t kChunk = 256;
  uint32_t v[kChunk];
  for (int32_t c0 = k0; c0 < k1; c0 += kChunk) {
    const int32_t len = std::min(kChunk, k1 - c0);
    if (method == ResampleMethod::kStratified) {
      uniform_numerators(key, c0, len, v);
      for (int32_t k = 0; k < len; ++k) t[c0 + k] = ((c0 + k) + static_cast<double>(v[k]) * kInv24) / nd * total;
    } else {
      for (int32_t k = 0; k < len; ++k) t[c0 + k] = (u0 + (c0 + k)) / nd * total;
    }
  }
}

// Multinomial draws [d0, d1): each numerator's guide bucket bounds its search to a few candidates.
// The guide entries and the CDF rows are random accesses into megabytes, so the loop runs a
// software pipeline: draw i + 2D prefetches its guide entry, draw i + D (whose guide entry has
// arrived by then) prefetches its CDF row, draw i searches. `v` is scratch for the numerators.
void multinomial_range(const BlockedCdf& c, int32_t n, double total, int32_t fallback, const int32_t* guide, int32_t guide_bits,
                       RngKey key, int32_t d0, int32_t d1, uint32_t* v, int32_t* out) {
  const int32_t len = d1 - d0;
  uniform_numerators(key, d0, len, v);
  if (!guide) {
    for (int32_t i = 0; i < len; ++i) {
      const int32_t a = first_above(c, 0, n, (static_cast<double>(v[i]) * kInv24) * total);
      out[d0 + i] = a < n ? a : fallback;
    }
    return;
  }
  constexpr int32_t kAhead = 8;
  const int32_t shift = 24 - guide_bits;
  for (int32_t i = 0; i < std::min(len, 2 * kAhead); ++i) __builtin_prefetch(guide + (v[i] >> shift), 0, 3);
  for (int32_t i = 0; i < len; ++i) {
    if (i + 2 * kAhead < len) __builtin_prefetch(guide + (v[i + 2 * kAhead] >> shift), 0, 3);
    if (i + kAhead < len) __builtin_prefetch(c.pre + guide[v[i + kAhead] >> shift], 0, 3);
    const uint32_t b = v[i] >> shift;
    out[d0 + i] = first_above(c, guide[b], guide[b + 1], (static_cast<double>(v[i]) * kInv24) * total);
  }
}

void validate_w(const int32_t* offsets, int32_t n_segments, int32_t w) {
  IRO_REQUIRE_ARG(w >= 0, "w must be >= 0, got " + std::to_string(w));
  for (int32_t s = 0; s < n_segments; ++s) {
    IRO_REQUIRE_ARG(offsets[s + 1] - offsets[s] >= w, "segment " + std::to_string(s) + " has " + std::to_string(offsets[s + 1] - offsets[s]) +
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
  if (n_segments > 0 && offsets[n_segments] > offsets[0]) IRO_REQUIRE_ARG(scores != nullptr, "scores are required");
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
    IRO_REQUIRE_ARG(finite || offsets[s + 1] == offsets[s], "every score of segment " + std::to_string(s) +
                                                            " is -Infinity; a segment needs at least one finite score");
  }
}

void validate_softmax_args(const float* scores, const int32_t* offsets, int32_t n_segments, float tau) {
  validate_tau(tau);
  validate_segment_scores(scores, offsets, n_segments);
}

void validate_resample_args(const float* scores, const int32_t* offsets, int32_t n_segments, float tau, ResampleMethod method,
                            const int32_t* draw_offsets) {
  validate_tau(tau);
  IRO_REQUIRE_ARG(method == ResampleMethod::kSystematic || method == ResampleMethod::kStratified || method == ResampleMethod::kMultinomial,
              "unknown resampling method " + std::to_string(static_cast<int>(method)));
  validate_segment_scores(scores, offsets, n_segments);
  validate_offsets(draw_offsets, n_segments, "draw offsets");
  for (int32_t s = 0; s < n_segments; ++s)
    if (draw_offsets[s + 1] != draw_offsets[s] && offsets[s + 1] == offsets[s])
      fail(codes::kInvalidArgument, "segment " + std::to_string(s) + " has no candidates but asks for draws");
}

void validate_top_w_args(const float* scores, const int32_t* offsets, int32_t n_segments, int32_t w) {
  validate_segment_scores(scores, offsets, n_segments);
  validate_w(offsets, n_segments, w);
}

void validate_group_best_args(const float* scores, const int32_t* offsets, int32_t n_segments, int32_t k) {
  validate_segment_scores(scores, offsets, n_segments);
  IRO_REQUIRE_ARG(k >= 1, "k (children per group) must be >= 1, got " + std::to_string(k));
  for (int32_t s = 0; s < n_segments; ++s)
    IRO_REQUIRE_ARG((offsets[s + 1] - offsets[s]) % k == 0, "segment " + std::to_string(s) + " has " + std::to_string(offsets[s + 1] - offsets[s]) +
                                                           " candidates, not a multiple of k = " + std::to_string(k));
}

void softmax_weights(const float* scores, const int32_t* offsets, int32_t n_segments, float tau, float* log_weights,
                     float* ess, int threads) {
  validate_softmax_args(scores, offsets, n_segments, tau);
  // Many segments: one thread per segment. Few: segments in turn, each split across the threads.
  const bool inner = n_segments < std::max(1, threads);
  parallel_for(static_cast<size_t>(n_segments), inner ? 1 : threads, 1, [&](size_t b, size_t e) {
    Scratch<double> cdf;
    for (size_t s = b; s < e; ++s) {
      const int32_t n = offsets[s + 1] - offsets[s];
      if (n == 0) {
        if (ess) ess[s] = 0.0f;
        continue;
      }
      const float* sc = scores + offsets[s];
      cdf.resize(static_cast<size_t>(n));
      const BlockedCdf c = segment_cdf(sc, n, tau, cdf.data(), inner ? threads : 1);
      const double total = c.total, m = c.max;
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
              int threads, ResampleWorkspace* workspace) {
  validate_resample_args(scores, offsets, n_segments, tau, method, draw_offsets);
  const bool inner = n_segments < std::max(1, threads);
  const bool one_at_a_time = inner || threads <= 1 || n_segments <= 1;
  parallel_for(static_cast<size_t>(n_segments), inner ? 1 : threads, 1, [&](size_t b, size_t e) {
    // The caller's workspace serves segments handled one at a time (always the case for the large
    // ones); with several segments in flight each thread keeps its own scratch.
    ResampleWorkspace::Buffers local;
    ResampleWorkspace::Buffers& buf = one_at_a_time && workspace ? workspace->buffers() : local;
    Scratch<double> &cdf = buf.cdf, &targets = buf.targets;
    Scratch<int32_t>& guide = buf.guide;
    Scratch<uint32_t>& numerators = buf.numerators;
    for (size_t s = b; s < e; ++s) {
      const int32_t nd = draw_offsets[s + 1] - draw_offsets[s];
      if (nd == 0) continue;
      const int32_t n = offsets[s + 1] - offsets[s];
      const float* sc = scores + offsets[s];
      const int tin = inner ? threads : 1;
      cdf.resize(static_cast<size_t>(n));
      const BlockedCdf c = segment_cdf(sc, n, tau, cdf.data(), tin);
      const double total = c.total;
      const int32_t fallback = last_positive(sc, n, c.max, tau);
      const RngKey key{seed, request_ids ? request_ids[s] : static_cast<uint32_t>(s), 0, step, kResampleLane};
      int32_t* out = draws + draw_offsets[s];
      if (method != ResampleMethod::kMultinomial) {
        // Systematic and stratified targets never decrease with the draw index (p_k < p_{k+1} before
        // rounding, and rounding is monotone), so the draws are an assignment of sorted targets.
        const double u0 = method == ResampleMethod::kSystematic ? static_cast<double>(rng_uniform(key)) : 0.0;
        targets.resize(static_cast<size_t>(nd) + 1);
        double* t = targets.data();
        parallel_for(static_cast<size_t>(nd), tin, 16384, [&](size_t k0, size_t k1) {
          fill_targets(method, key, u0, nd, total, static_cast<int32_t>(k0), static_cast<int32_t>(k1), t);
        });
        t[nd] = std::numeric_limits<double>::infinity();
        const CountRule rule = method == ResampleMethod::kSystematic ? CountRule::kCeil : CountRule::kFloorStep;
        assign_all(c, n, Targets{t, nd, static_cast<double>(nd) / total, u0, rule}, fallback, tin, out);
        continue;
      }
      // Multinomial draws from many candidates go through a guide table of ~min(n, nd) buckets:
      // guide[b] = the draw of bucket b's smallest numerator (b = v >> (24 - bits)), guide[2^bits] =
      // the draw at u = 1. Draws are monotone in v, so a numerator of bucket b draws from
      // [guide[b], guide[b+1]]. The bucket floors are sorted targets: the same assignment as above.
      int32_t bits = 0;
      const int32_t* g = nullptr;
      if (n > 64 && nd > 64) {
        while (bits < 24 && (int64_t{1} << bits) < std::min(n, nd)) ++bits;
        const int32_t nb = (1 << bits) + 1;
        targets.resize(static_cast<size_t>(nb) + 1);
        double* t = targets.data();
        for (int32_t q = 0; q < nb; ++q) t[q] = (static_cast<double>(static_cast<uint64_t>(q) << (24 - bits)) * kInv24) * total;
        t[nb] = std::numeric_limits<double>::infinity();
        guide.resize(static_cast<size_t>(nb));
        assign_all(c, n, Targets{t, nb, static_cast<double>(1 << bits) / total, 0.0, CountRule::kCeil}, fallback, tin, guide.data());
        g = guide.data();
      }
      numerators.resize(static_cast<size_t>(nd));
      parallel_for(static_cast<size_t>(nd), tin, 4096, [&](size_t d0, size_t d1) {
        multinomial_range(c, n, total, fallback, g, bits, key, static_cast<int32_t>(d0), static_cast<int32_t>(d1), numerators.data() + d0, out);
      });
    }
  });
}

void top_w(const float* scores, const int32_t* offsets, int32_t n_segments, int32_t w, int32_t* out, int threads) {
  validate_top_w_args(scores, offsets, n_segments, w);
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
  validate_top_w_args(scores, offsets, n_segments, w);
  if (n_segments > 0 && offsets[n_segments] > offsets[0]) IRO_REQUIRE_ARG(hashes != nullptr, "continuation hashes are required");
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
  validate_group_best_args(scores, offsets, n_segments, k);
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
