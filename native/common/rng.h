// Counter-based random numbers (Philox4x32-10). A draw is a pure function of
// (seed, request, sequence, position, lane), so results never depend on batching or thread
// scheduling, and the CUDA kernels produce the very same numbers as the CPU ones.
#pragma once
#include <cstdint>

#if defined(__CUDACC__)
#define IRO_HD __host__ __device__ __forceinline__
#else
#define IRO_HD inline
#endif

namespace iro {

struct RngKey {
  uint64_t seed;
  uint32_t request;   // request id inside one call (prompt index)
  uint32_t sequence;  // candidate / slot id inside the request
  uint32_t position;  // token position in the response
  uint32_t lane;      // independent stream for the same position (0 = token sampling)
};

IRO_HD uint32_t philox_mulhilo(uint32_t a, uint32_t b, uint32_t* hi) {
  const uint64_t p = static_cast<uint64_t>(a) * static_cast<uint64_t>(b);
  *hi = static_cast<uint32_t>(p >> 32);
  return static_cast<uint32_t>(p);
}

// Returns the first 32-bit word of Philox4x32-10 for counter (c0..c3) and key (k0, k1).
IRO_HD uint32_t philox4x32(uint32_t c0, uint32_t c1, uint32_t c2, uint32_t c3, uint32_t k0, uint32_t k1) {
  for (int round = 0; round < 10; ++round) {
    uint32_t hi0, hi1;
    const uint32_t lo0 = philox_mulhilo(0xD2511F53u, c0, &hi0);
    const uint32_t lo1 = philox_mulhilo(0xCD9E8D57u, c2, &hi1);
    const uint32_t n0 = hi1 ^ c1 ^ k0;
    const uint32_t n2 = hi0 ^ c3 ^ k1;
    c0 = n0;
    c1 = lo1;
    c2 = n2;
    c3 = lo0;
    k0 += 0x9E3779B9u;
    k1 += 0xBB67AE85u;
  }
  return c0;
}

IRO_HD uint32_t rng_bits(const RngKey& k) {
  return philox4x32(k.request, k.sequence, k.position, k.lane, static_cast<uint32_t>(k.seed),
                    static_cast<uint32_t>(k.seed >> 32));
}

// Uniform in [0, 1): 24 random bits, exactly representable as float on every device.
IRO_HD float rng_uniform(const RngKey& k) { return static_cast<float>(rng_bits(k) >> 8) * (1.0f / 16777216.0f); }

}  // namespace iro
