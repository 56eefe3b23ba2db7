// Thread-count policy and a deterministic parallel-for. Work is split into fixed contiguous ranges
// that depend only on (n, threads), and each index is computed by exactly one thread, so results
// are identical whatever the thread count.
#pragma once
#include <algorithm>
#include <cstddef>
#include <thread>
#include <vector>

namespace iro {

// Default for llama.cpp and our kernels inside a Node process; see lib/threads.ts for the policy.
int default_thread_count();

template <typename Fn>
void parallel_for(size_t n, int threads, size_t min_per_thread, Fn&& fn) {
  size_t t = static_cast<size_t>(std::max(1, threads));
  if (min_per_thread > 0) t = std::min(t, std::max<size_t>(1, n / min_per_thread));
  if (t <= 1 || n <= 1) {
    if (n > 0) fn(size_t{0}, n);
    return;
  }
  std::vector<std::thread> pool;
  pool.reserve(t - 1);
  const size_t chunk = (n + t - 1) / t;
  for (size_t i = 1; i < t; ++i) {
    const size_t b = i * chunk, e = std::min(n, b + chunk);
    if (b < e) pool.emplace_back([&fn, b, e] { fn(b, e); });
  }
  fn(size_t{0}, std::min(n, chunk));
  for (auto& th : pool) th.join();
}

}  // namespace iro
