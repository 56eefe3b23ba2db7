#include "cuda/resample.h"

#include <cub/device/device_segmented_sort.cuh>

#include <cmath>
#include <string>
#include <vector>

#include "cuda/cuda_util.cuh"
#include "native/common/det_exp.h"
#include "native/common/rng.h"

namespace iro::cuda {
namespace {

constexpr int kThreads = 256;

unsigned blocks_for(size_t n) { return static_cast<unsigned>((n + kThreads - 1) / kThreads); }

// Segment data on the device, rebased so that segment s spans [off[s], off[s+1]) of `scores`.
struct DevSegments {
  int32_t n_segments = 0;
  size_t n = 0;
  std::vector<int32_t> h_off;  // rebased offsets (host copy)
  DeviceBuffer<float> scores;
  DeviceBuffer<int32_t> off;
};

DevSegments upload_segments(const float* scores, const int32_t* offsets, int32_t n_segments) {
  DevSegments d;
  d.n_segments = n_segments;
  d.h_off.resize(static_cast<size_t>(n_segments) + 1);
  for (int32_t s = 0; s <= n_segments; ++s) d.h_off[s] = offsets[s] - offsets[0];
  d.n = static_cast<size_t>(d.h_off.back());
  d.off.upload(d.h_off.data(), d.h_off.size());
  if (d.n > 0) d.scores.upload(scores + offsets[0], d.n);
  return d;
}

// ---- weights and the blocked CDF (same association as the CPU) ----

__global__ void segment_max_kernel(const float* __restrict__ scores, const int32_t* __restrict__ off, float* __restrict__ smax) {
  __shared__ float red[kThreads];
  const int32_t s = blockIdx.x;
  float m = -INFINITY;
  for (int32_t i = off[s] + threadIdx.x; i < off[s + 1]; i += blockDim.x) m = fmaxf(m, scores[i]);
  red[threadIdx.x] = m;
  __syncthreads();
  for (int stride = blockDim.x / 2; stride > 0; stride >>= 1) {
    if (threadIdx.x < stride) red[threadIdx.x] = fmaxf(red[threadIdx.x], red[threadIdx.x + stride]);
    __syncthreads();
  }
  if (threadIdx.x == 0) smax[s] = red[0];
}

// One thread per CDF block: weights and in-block inclusive prefix.
__global__ void chunk_prefix_kernel(const float* __restrict__ scores, const int32_t* __restrict__ chunk_seg,
                                    const int32_t* __restrict__ chunk_begin, const int32_t* __restrict__ chunk_end,
                                    int32_t n_chunks, const float* __restrict__ smax, double tau, double* __restrict__ w,
                                    double* __restrict__ cdf, double* __restrict__ chunk_total) {
  const int64_t c = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (c >= n_chunks) return;
  const double m = smax[chunk_seg[c]];
  double acc = 0.0;
  for (int32_t i = chunk_begin[c]; i < chunk_end[c]; ++i) {
    const float v = scores[i];
    const double wi = v == -INFINITY ? 0.0 : det_exp(__ddiv_rn(__dsub_rn(static_cast<double>(v), m), tau));  // as on the CPU
    w[i] = wi;
    acc = __dadd_rn(acc, wi);
    cdf[i] = acc;
  }
  chunk_total[c] = acc;
}

// One thread per segment: carries over its blocks in order.
__global__ void chunk_carry_kernel(const int32_t* __restrict__ seg_chunk_off, int32_t n_segments, const double* __restrict__ chunk_total,
                                   double* __restrict__ chunk_carry, double* __restrict__ total) {
  const int64_t s = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (s >= n_segments) return;
  double carry = 0.0, last = 0.0;
  for (int32_t c = seg_chunk_off[s]; c < seg_chunk_off[s + 1]; ++c) {
    chunk_carry[c] = carry;
    last = __dadd_rn(chunk_total[c], carry);  // = cdf of the block's last element, as on the CPU
    carry = __dadd_rn(carry, chunk_total[c]);
  }
  total[s] = last;
}

__global__ void add_carry_kernel(const int32_t* __restrict__ chunk_begin, const int32_t* __restrict__ chunk_end, int32_t n_chunks,
                                 const double* __restrict__ chunk_carry, double* __restrict__ cdf) {
  const int64_t c = blockIdx.x;
  if (c >= n_chunks) return;
  for (int32_t i = chunk_begin[c] + threadIdx.x; i < chunk_end[c]; i += blockDim.x) cdf[i] = __dadd_rn(cdf[i], chunk_carry[c]);
}

struct DevCdf {
  DeviceBuffer<float> smax;
  DeviceBuffer<double> w, cdf, total;
};

DevCdf compute_cdf(const DevSegments& seg, float tau) {
  DevCdf r;
  r.smax.resize(static_cast<size_t>(seg.n_segments));
  r.total.resize(static_cast<size_t>(seg.n_segments));
  if (seg.n_segments == 0) return r;
  std::vector<int32_t> cseg, cbeg, cend, seg_chunk_off(1, 0);
  for (int32_t s = 0; s < seg.n_segments; ++s) {
    for (int32_t b = seg.h_off[s]; b < seg.h_off[s + 1]; b += kCdfBlock) {
      cseg.push_back(s);
      cbeg.push_back(b);
      cend.push_back(std::min(seg.h_off[s + 1], b + kCdfBlock));
    }
    seg_chunk_off.push_back(static_cast<int32_t>(cseg.size()));
  }
  const int32_t n_chunks = static_cast<int32_t>(cseg.size());
  segment_max_kernel<<<static_cast<unsigned>(seg.n_segments), kThreads>>>(seg.scores.get(), seg.off.get(), r.smax.get());
  check_launch("segment max kernel");
  r.w.resize(seg.n);
  r.cdf.resize(seg.n);
  DeviceBuffer<int32_t> d_cseg, d_cbeg, d_cend, d_sco;
  DeviceBuffer<double> d_ctot, d_carry;
  d_sco.upload(seg_chunk_off.data(), seg_chunk_off.size());
  if (n_chunks > 0) {
    d_cseg.upload(cseg.data(), cseg.size());
    d_cbeg.upload(cbeg.data(), cbeg.size());
    d_cend.upload(cend.data(), cend.size());
    d_ctot.resize(cseg.size());
    d_carry.resize(cseg.size());
    chunk_prefix_kernel<<<blocks_for(cseg.size()), kThreads>>>(seg.scores.get(), d_cseg.get(), d_cbeg.get(), d_cend.get(), n_chunks,
                                                               r.smax.get(), static_cast<double>(tau), r.w.get(), r.cdf.get(), d_ctot.get());
    check_launch("CDF block kernel");
  }
  chunk_carry_kernel<<<blocks_for(static_cast<size_t>(seg.n_segments)), kThreads>>>(d_sco.get(), seg.n_segments, d_ctot.get(),
                                                                                     d_carry.get(), r.total.get());
  check_launch("CDF carry kernel");
  if (n_chunks > 0) {
    add_carry_kernel<<<static_cast<unsigned>(n_chunks), kThreads>>>(d_cbeg.get(), d_cend.get(), n_chunks, d_carry.get(), r.cdf.get());
    check_launch("CDF add kernel");
  }
  return r;
}

__global__ void log_weight_kernel(const float* __restrict__ scores, const int32_t* __restrict__ off, int32_t n_segments,
                                  const float* __restrict__ smax, const double* __restrict__ total, double tau,
                                  float* __restrict__ lw, size_t n) {
  const int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i >= static_cast<int64_t>(n)) return;
  int32_t lo = 0, hi = n_segments;  // segment of i: last s with off[s] <= i (non-empty)
  while (hi - lo > 1) {
    const int32_t mid = (lo + hi) / 2;
    if (off[mid] <= i) lo = mid; else hi = mid;
  }
  const float v = scores[i];
  lw[i] = v == -INFINITY ? -INFINITY : static_cast<float>((static_cast<double>(v) - smax[lo]) / tau - log(total[lo]));
}

__global__ void ess_kernel(const int32_t* __restrict__ off, const double* __restrict__ w, const double* __restrict__ total,
                           float* __restrict__ ess) {
  __shared__ double red[kThreads];
  const int32_t s = blockIdx.x;
  double sq = 0.0;
  // Explicit round-to-nearest ops: a plain `sq += w * w` is contracted into an FMA by nvcc. The tree
  // below sums in a different association than the CPU's sequential loop, so the ESS agrees to
  // double rounding (then float), not bit for bit; it selects nothing.
  for (int32_t i = off[s] + threadIdx.x; i < off[s + 1]; i += blockDim.x) sq = __dadd_rn(sq, __dmul_rn(w[i], w[i]));
  red[threadIdx.x] = sq;
  __syncthreads();
  for (int stride = blockDim.x / 2; stride > 0; stride >>= 1) {
    if (threadIdx.x < stride) red[threadIdx.x] = __dadd_rn(red[threadIdx.x], red[threadIdx.x + stride]);
    __syncthreads();
  }
  if (threadIdx.x == 0) ess[s] = off[s + 1] > off[s] ? static_cast<float>(total[s] * total[s] / red[0]) : 0.0f;
}

__global__ void draw_kernel(const int32_t* __restrict__ off, const int32_t* __restrict__ doff, int32_t n_segments, size_t n_draws,
                            const double* __restrict__ w, const double* __restrict__ cdf, const double* __restrict__ total, int method,
                            uint64_t seed, uint32_t step, const uint32_t* __restrict__ request_ids, int32_t* __restrict__ draws) {
  const int64_t g = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (g >= static_cast<int64_t>(n_draws)) return;
  int32_t lo = 0, hi = n_segments;  // segment of draw g
  while (hi - lo > 1) {
    const int32_t mid = (lo + hi) / 2;
    if (doff[mid] <= g) lo = mid; else hi = mid;
  }
  const int32_t s = lo, nd = doff[s + 1] - doff[s], i = static_cast<int32_t>(g - doff[s]);
  RngKey key{seed, request_ids ? request_ids[s] : static_cast<uint32_t>(s), 0, step, kResampleLane};
  double p;
  if (method == static_cast<int>(ResampleMethod::kSystematic)) {
    p = __ddiv_rn(__dadd_rn(static_cast<double>(rng_uniform(key)), static_cast<double>(i)), static_cast<double>(nd));
  } else {
    key.sequence = static_cast<uint32_t>(i);
    const double u = static_cast<double>(rng_uniform(key));
    p = method == static_cast<int>(ResampleMethod::kStratified) ? __ddiv_rn(__dadd_rn(static_cast<double>(i), u), static_cast<double>(nd)) : u;
  }
  const double target = __dmul_rn(p, total[s]);  // explicit rn ops throughout: no FMA contraction
  int32_t a = off[s], b = off[s + 1];  // first index with cdf > target
  while (a < b) {
    const int32_t mid = a + (b - a) / 2;
    if (cdf[mid] > target) b = mid; else a = mid + 1;
  }
  if (a == off[s + 1]) {
    a = off[s + 1] - 1;
    while (a > off[s] && w[a] <= 0.0) --a;
  }
  draws[g] = a - off[s];
}

// ---- ranking: stable descending sort of each segment (ties keep the lower index first) ----

__global__ void canon_kernel(const float* __restrict__ in, float* __restrict__ out, int32_t* __restrict__ idx,
                             const int32_t* __restrict__ off, int32_t n_segments, size_t n) {
  const int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i >= static_cast<int64_t>(n)) return;
  int32_t lo = 0, hi = n_segments;
  while (hi - lo > 1) {
    const int32_t mid = (lo + hi) / 2;
    if (off[mid] <= i) lo = mid; else hi = mid;
  }
  out[i] = __fadd_rn(in[i], 0.0f);  // -0 -> +0: the CPU compares them equal (an rn op is never folded away)
  idx[i] = static_cast<int32_t>(i - off[lo]);
}

struct Ranked {
  DeviceBuffer<float> keys;
  DeviceBuffer<int32_t> order;  // local indices in rank order, per segment
};

Ranked rank_segments(const DevSegments& seg) {
  Ranked r;
  if (seg.n == 0) return r;
  DeviceBuffer<float> keys_in(seg.n);
  DeviceBuffer<int32_t> idx_in(seg.n);
  r.keys.resize(seg.n);
  r.order.resize(seg.n);
  canon_kernel<<<blocks_for(seg.n), kThreads>>>(seg.scores.get(), keys_in.get(), idx_in.get(), seg.off.get(), seg.n_segments, seg.n);
  check_launch("rank canon kernel");
  size_t temp_bytes = 0;
  const int64_t n = static_cast<int64_t>(seg.n);
  check(cub::DeviceSegmentedSort::StableSortPairsDescending(nullptr, temp_bytes, keys_in.get(), r.keys.get(), idx_in.get(), r.order.get(), n,
                                                             seg.n_segments, seg.off.get(), seg.off.get() + 1),
        "segmented sort (size)");
  DeviceBuffer<unsigned char> temp(std::max<size_t>(temp_bytes, 1));
  check(cub::DeviceSegmentedSort::StableSortPairsDescending(temp.get(), temp_bytes, keys_in.get(), r.keys.get(), idx_in.get(), r.order.get(), n,
                                                             seg.n_segments, seg.off.get(), seg.off.get() + 1),
        "segmented sort");
  check_launch("segmented sort");
  return r;
}

__global__ void take_first_kernel(const int32_t* __restrict__ order, const int32_t* __restrict__ off, int32_t n_segments, int32_t w,
                                  int32_t* __restrict__ out) {
  const int64_t g = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (g >= static_cast<int64_t>(n_segments) * w) return;
  const int64_t s = g / w, r = g % w;
  out[g] = order[off[s] + r];
}

// One thread per segment walks its rank order (stops as soon as w are chosen).
__global__ void diverse_kernel(const int32_t* __restrict__ order, const float* __restrict__ keys, const uint64_t* __restrict__ hashes,
                               const int32_t* __restrict__ off, int32_t n_segments, int32_t w, unsigned char* __restrict__ taken,
                               int32_t* __restrict__ out) {
  const int64_t s = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (s >= n_segments) return;
  const int32_t b = off[s], n = off[s + 1] - b;
  int32_t* o = out + s * w;
  int32_t got = 0;
  for (int32_t r = 0; r < n && got < w && keys[b + r] != -INFINITY; ++r) {
    const int32_t i = order[b + r];
    const uint64_t h = hashes[b + i];
    bool seen = false;
    for (int32_t q = 0; q < got && !seen; ++q) seen = hashes[b + o[q]] == h;
    if (!seen) {
      taken[b + i] = 1;
      o[got++] = i;
    }
  }
  for (int32_t r = 0; r < n && got < w; ++r) {
    const int32_t i = order[b + r];
    if (!taken[b + i]) o[got++] = i;
  }
}

__global__ void group_best_kernel(const float* __restrict__ scores, size_t n_groups, int32_t k, int32_t* __restrict__ out) {
  const int64_t g = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (g >= static_cast<int64_t>(n_groups)) return;
  const float* sc = scores + g * k;
  int32_t best = 0;
  for (int32_t j = 1; j < k; ++j)
    if (sc[j] > sc[best]) best = j;
  out[g] = best;
}

}  // namespace

void softmax_weights(const float* scores, const int32_t* offsets, int32_t n_segments, float tau, float* log_weights,
                     float* ess, int threads) {
  validate_softmax_args(scores, offsets, n_segments, tau);  // the CPU kernel's checks
  if (n_segments == 0) return;
  const DevSegments seg = upload_segments(scores, offsets, n_segments);
  DevCdf cdf = compute_cdf(seg, tau);
  if (log_weights && seg.n > 0) {
    DeviceBuffer<float> lw(seg.n);
    log_weight_kernel<<<blocks_for(seg.n), kThreads>>>(seg.scores.get(), seg.off.get(), n_segments, cdf.smax.get(), cdf.total.get(),
                                                       static_cast<double>(tau), lw.get(), seg.n);
    check_launch("log-weight kernel");
    lw.download(log_weights + offsets[0], seg.n);
  }
  if (ess) {
    DeviceBuffer<float> d_ess(static_cast<size_t>(n_segments));
    ess_kernel<<<static_cast<unsigned>(n_segments), kThreads>>>(seg.off.get(), cdf.w.get(), cdf.total.get(), d_ess.get());
    check_launch("ESS kernel");
    d_ess.download(ess, static_cast<size_t>(n_segments));
  }
}

void resample(const float* scores, const int32_t* offsets, int32_t n_segments, float tau, ResampleMethod method,
              const int32_t* draw_offsets, uint64_t seed, uint32_t step, const uint32_t* request_ids, int32_t* draws,
              int threads) {
  validate_resample_args(scores, offsets, n_segments, tau, method, draw_offsets);
  if (n_segments == 0) return;
  const DevSegments seg = upload_segments(scores, offsets, n_segments);
  DevCdf cdf = compute_cdf(seg, tau);
  std::vector<int32_t> hdoff(static_cast<size_t>(n_segments) + 1);
  for (int32_t s = 0; s <= n_segments; ++s) hdoff[s] = draw_offsets[s] - draw_offsets[0];
  const size_t n_draws = static_cast<size_t>(hdoff.back());
  if (n_draws == 0) return;
  DeviceBuffer<int32_t> d_doff, d_draws(n_draws);
  DeviceBuffer<uint32_t> d_req;
  d_doff.upload(hdoff.data(), hdoff.size());
  if (request_ids) d_req.upload(request_ids, static_cast<size_t>(n_segments));
  draw_kernel<<<blocks_for(n_draws), kThreads>>>(seg.off.get(), d_doff.get(), n_segments, n_draws, cdf.w.get(), cdf.cdf.get(), cdf.total.get(),
                                                 static_cast<int>(method), seed, step, request_ids ? d_req.get() : nullptr, d_draws.get());
  check_launch("draw kernel");
  d_draws.download(draws + draw_offsets[0], n_draws);
}

void top_w(const float* scores, const int32_t* offsets, int32_t n_segments, int32_t w, int32_t* out, int threads) {
  validate_top_w_args(scores, offsets, n_segments, w);
  if (n_segments == 0 || w == 0) return;
  const DevSegments seg = upload_segments(scores, offsets, n_segments);
  Ranked r = rank_segments(seg);
  const size_t n_out = static_cast<size_t>(n_segments) * static_cast<size_t>(w);
  DeviceBuffer<int32_t> d_out(n_out);
  take_first_kernel<<<blocks_for(n_out), kThreads>>>(r.order.get(), seg.off.get(), n_segments, w, d_out.get());
  check_launch("top-w kernel");
  d_out.download(out, n_out);
}

void diverse_top_w(const float* scores, const uint64_t* hashes, const int32_t* offsets, int32_t n_segments, int32_t w,
                   int32_t* out, int threads) {
  validate_top_w_args(scores, offsets, n_segments, w);
  if (n_segments > 0 && offsets[n_segments] > offsets[0]) IRO_REQUIRE_ARG(hashes != nullptr, "continuation hashes are required");
  if (n_segments == 0 || w == 0) return;
  const DevSegments seg = upload_segments(scores, offsets, n_segments);
  Ranked r = rank_segments(seg);
  DeviceBuffer<uint64_t> d_h;
  d_h.upload(hashes + offsets[0], seg.n);
  DeviceBuffer<unsigned char> taken(seg.n);
  check(cudaMemset(taken.get(), 0, seg.n), "cudaMemset");
  const size_t n_out = static_cast<size_t>(n_segments) * static_cast<size_t>(w);
  DeviceBuffer<int32_t> d_out(n_out);
  diverse_kernel<<<blocks_for(static_cast<size_t>(n_segments)), kThreads>>>(r.order.get(), r.keys.get(), d_h.get(), seg.off.get(), n_segments, w,
                                                                             taken.get(), d_out.get());
  check_launch("diverse top-w kernel");
  d_out.download(out, n_out);
}

void group_best(const float* scores, const int32_t* offsets, int32_t n_segments, int32_t k, int32_t* out, int threads) {
  validate_group_best_args(scores, offsets, n_segments, k);
  if (n_segments == 0) return;
  const DevSegments seg = upload_segments(scores, offsets, n_segments);
  const size_t n_groups = seg.n / static_cast<size_t>(k);
  if (n_groups == 0) return;
  // Every segment is a whole number of groups, so groups tile the rebased score array.
  DeviceBuffer<int32_t> d_out(n_groups);
  group_best_kernel<<<blocks_for(n_groups), kThreads>>>(seg.scores.get(), n_groups, k, d_out.get());
  check_launch("group-best kernel");
  std::vector<int32_t> within(n_groups);
  d_out.download(within.data(), n_groups);
  // Convert "index within group" to the local index within the segment (g*k + j).
  for (int32_t s = 0; s < n_segments; ++s) {
    const int32_t g0 = seg.h_off[s] / k, groups = (seg.h_off[s + 1] - seg.h_off[s]) / k;
    for (int32_t g = 0; g < groups; ++g) out[g0 + g] = g * k + within[static_cast<size_t>(g0 + g)];
  }
}

}  // namespace iro::cuda
