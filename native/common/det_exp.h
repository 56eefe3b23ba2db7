// Deterministic exp(double) shared by host and device (IRO_HD): the resampling weights must be
// bit-identical on the CPU and on CUDA, and glibc's exp and CUDA's exp may differ in the last ulp.
// Every step is an explicit round-to-nearest double operation (no FMA contraction on either side),
// written without branches or tables so the CPU loop vectorises (AVX2: 4 lanes).
//
//   n  = round-to-nearest-even(x * log2 e)    (via the 1.5*2^52 shift)
//   r  = (x - n*ln2_hi) - n*ln2_lo            (Cody-Waite; n*ln2_hi is exact)
//   p  = Horner, degree 13 Taylor of e^r       (|r| <= 0.347: truncation error < 5e-18)
//   exp = (p * 2^n1) * 2^n2, n1 = round(n/2), n2 = n - n1   (so subnormal results round once)
//   exp = +0 when x < -746 (or x = -inf)
// Domain: x <= 709 (our callers pass x <= 0). Error: within 1-2 ulp of the true exp.
#pragma once
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "native/common/rng.h"  // IRO_HD

namespace iro {

#if defined(__CUDA_ARCH__)
IRO_HD double det_mul(double a, double b) { return __dmul_rn(a, b); }
IRO_HD double det_add(double a, double b) { return __dadd_rn(a, b); }
IRO_HD int64_t det_bits(double x) { return static_cast<int64_t>(__double_as_longlong(x)); }
IRO_HD double det_from_bits(int64_t b) { return __longlong_as_double(static_cast<long long>(b)); }
#else
// The host build never enables FMA for these translation units (see CMakeLists: no -mfma/-march),
// and the AVX2 clones do not include FMA, so a*b+c is always two roundings.
IRO_HD double det_mul(double a, double b) { return a * b; }
IRO_HD double det_add(double a, double b) { return a + b; }
IRO_HD int64_t det_bits(double x) {
  int64_t b;
  std::memcpy(&b, &x, sizeof b);
  return b;
}
IRO_HD double det_from_bits(int64_t b) {
  double x;
  std::memcpy(&x, &b, sizeof x);
  return x;
}
#endif

IRO_HD double det_exp(double x) {
  const double kShift = 6755399441055744.0;  // 1.5 * 2^52: adding it rounds to an integer
  const double kLog2e = 1.4426950408889634;
  const double kLn2Hi = 6.93147180369123816490e-01;  // upper bits of ln 2 (n * kLn2Hi is exact)
  const double kLn2Lo = 1.90821492927058770002e-10;  // ln 2 - kLn2Hi
  const double t = det_add(det_mul(x, kLog2e), kShift);
  const double n = det_add(t, -kShift);
  const double r = det_add(det_add(x, -det_mul(n, kLn2Hi)), -det_mul(n, kLn2Lo));
  double p = 1.0 / 6227020800.0;  // 1/13!
  p = det_add(det_mul(p, r), 1.0 / 479001600.0);
  p = det_add(det_mul(p, r), 1.0 / 39916800.0);
  p = det_add(det_mul(p, r), 1.0 / 3628800.0);
  p = det_add(det_mul(p, r), 1.0 / 362880.0);
  p = det_add(det_mul(p, r), 1.0 / 40320.0);
  p = det_add(det_mul(p, r), 1.0 / 5040.0);
  p = det_add(det_mul(p, r), 1.0 / 720.0);
  p = det_add(det_mul(p, r), 1.0 / 120.0);
  p = det_add(det_mul(p, r), 1.0 / 24.0);
  p = det_add(det_mul(p, r), 1.0 / 6.0);
  p = det_add(det_mul(p, r), 0.5);
  p = det_add(det_mul(p, r), 1.0);
  p = det_add(det_mul(p, r), 1.0);
  // n1 = round(n / 2) and n2 = n - n1 are both within the normal exponent range for |n| <= 1077.
  const double n1 = det_add(det_add(det_mul(n, 0.5), kShift), -kShift);
  const double n2 = det_add(n, -n1);
  const int64_t shift_bits = det_bits(kShift);
  const int64_t e1 = det_bits(det_add(n1, kShift)) - shift_bits;
  const int64_t e2 = det_bits(det_add(n2, kShift)) - shift_bits;
  const double s1 = det_from_bits((e1 + 1023) << 52);
  const double s2 = det_from_bits((e2 + 1023) << 52);
  const double y = det_mul(det_mul(p, s1), s2);
  // x < -746 (exp rounds to 0, and the steps above overflow): decided on the bits. As unsigned
  // integers, negative doubles order by magnitude, so for negative x (top bit set) lim - bits(x)
  // wraps (top bit set) exactly when x < -746. Pure integer masking: a compare here
  // lets GCC turn the arithmetic into a branch, which it then cannot vectorise (-ftrapping-math).
  const uint64_t lim = static_cast<uint64_t>(det_bits(-746.0));
  const uint64_t xb = static_cast<uint64_t>(det_bits(x));
  const uint64_t keep = ((xb >> 63) & ((lim - xb) >> 63)) - 1u;  // all ones when x >= -746
  return det_from_bits(static_cast<int64_t>(static_cast<uint64_t>(det_bits(y)) & keep));
}

#if !defined(__CUDACC__)
// det_exp of kDetExpLanes values at once, for the CPU loops. Every lane goes through exactly the
// operations of det_exp above, in the same order (so the bits are the same: checked by the native
// tests), written with vector types so that four independent vector chains are in flight instead of
// one 28-step Horner chain.
inline constexpr int kDetExpLanes = 16;

__attribute__((always_inline)) inline void det_exp_lanes(const double* __restrict x, double* __restrict y) {
  typedef double dv __attribute__((vector_size(32)));
  typedef int64_t iv __attribute__((vector_size(32)));
  typedef uint64_t uv __attribute__((vector_size(32)));
  constexpr int G = kDetExpLanes / 4;
  const double kShift = 6755399441055744.0;
  const double kLog2e = 1.4426950408889634;
  const double kLn2Hi = 6.93147180369123816490e-01;
  const double kLn2Lo = 1.90821492927058770002e-10;
  // r and p stay in registers across the polynomial; n is recomputed afterwards (same ops, same value)
  // rather than kept alive, which would spill.
  dv r[G], p[G];
  for (int g = 0; g < G; ++g) {
    dv xv;
    std::memcpy(&xv, x + 4 * g, sizeof(dv));
    const dv n = (xv * kLog2e + kShift) + (-kShift);
    r[g] = (xv + -(n * kLn2Hi)) + -(n * kLn2Lo);
    p[g] = r[g] * (1.0 / 6227020800.0) + 1.0 / 479001600.0;
  }
#define IRO_DET_EXP_STEP(c) for (int g = 0; g < G; ++g) p[g] = p[g] * r[g] + (c);
  IRO_DET_EXP_STEP(1.0 / 39916800.0)
  IRO_DET_EXP_STEP(1.0 / 3628800.0)
  IRO_DET_EXP_STEP(1.0 / 362880.0)
  IRO_DET_EXP_STEP(1.0 / 40320.0)
  IRO_DET_EXP_STEP(1.0 / 5040.0)
  IRO_DET_EXP_STEP(1.0 / 720.0)
  IRO_DET_EXP_STEP(1.0 / 120.0)
  IRO_DET_EXP_STEP(1.0 / 24.0)
  IRO_DET_EXP_STEP(1.0 / 6.0)
  IRO_DET_EXP_STEP(0.5)
  IRO_DET_EXP_STEP(1.0)
  IRO_DET_EXP_STEP(1.0)
#undef IRO_DET_EXP_STEP
  const iv shift_bits = iv{} + det_bits(kShift);
  const uv lim = uv{} + static_cast<uint64_t>(det_bits(-746.0));
  for (int g = 0; g < G; ++g) {
    dv xv;
    std::memcpy(&xv, x + 4 * g, sizeof(dv));
    const dv n = (xv * kLog2e + kShift) + (-kShift);
    const dv n1 = ((n * 0.5) + kShift) + (-kShift);
    const dv n2 = n + (-n1);
    const iv e1 = (iv)(n1 + kShift) - shift_bits;
    const iv e2 = (iv)(n2 + kShift) - shift_bits;
    const iv b1 = (e1 + 1023) << 52, b2 = (e2 + 1023) << 52;
    const dv v = (p[g] * (dv)b1) * (dv)b2;
    const uv xb = (uv)xv;
    const uv keep = ((xb >> 63) & ((lim - xb) >> 63)) - 1u;
    const uv out = (uv)v & keep;
    std::memcpy(y + 4 * g, &out, sizeof(dv));
  }
}
// det_exp of every element of v, in place.
inline void det_exp_array(double* v, size_t n) {
  size_t i = 0;
  double y[kDetExpLanes];
  for (; i + kDetExpLanes <= n; i += kDetExpLanes) {
    det_exp_lanes(v + i, y);
    std::memcpy(v + i, y, sizeof y);
  }
  for (; i < n; ++i) v[i] = det_exp(v[i]);
}
#endif

}  // namespace iro
