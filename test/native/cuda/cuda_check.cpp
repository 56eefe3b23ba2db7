// iro_cuda_check: the CUDA twins against the CPU reference on random inputs (identical selections
// and tokens, values within 1e-5 relative), and with --bench FILE a CPU-vs-CUDA kernel benchmark
// written as JSON. Prints "SKIP: no CUDA device" and exits 0 on a machine without a usable GPU.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <functional>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "cuda/beam_expand.h"
#include "cuda/device.h"
#include "cuda/resample.h"
#include "cuda/value_score.h"
#include "native/common/error.h"
#include "native/kernels/beam_expand.h"
#include "native/kernels/resample.h"
#include "native/kernels/value_score.h"
#include "test/native/kernel_inputs.h"

using namespace iro;

namespace {

int g_fail = 0, g_checks = 0;
void expect(bool ok, const std::string& what) {
  ++g_checks;
  if (!ok) {
    ++g_fail;
    std::fprintf(stderr, "  MISMATCH: %s\n", what.c_str());
  }
}
bool close(float a, float b, float rel = 1e-5f) {
  if (a == b) return true;
  return std::fabs(a - b) <= rel * std::max(1.0f, std::max(std::fabs(a), std::fabs(b)));
}

std::vector<int32_t> offsets_of(const std::vector<int32_t>& sizes) {
  std::vector<int32_t> o(1, 0);
  for (int32_t n : sizes) o.push_back(o.back() + n);
  return o;
}

void check_value_scoring(std::mt19937& rng) {
  struct Shape { int32_t B, M, nb, d, hidden, d_dense; bool w; };
  const Shape shapes[] = {{1, 1, 1, 1, 1, 0, false}, {17, 2, 1000, 16, 24, 5, true}, {257, 3, 1 << 16, 64, 64, 0, false},
                          {64, 1, 4093, 64, 64, 128, true}, {3000, 3, 1 << 12, 32, 48, 0, true}};
  for (const Shape& s : shapes) {
    std::vector<test::RandomNet> nets;
    std::vector<ValueNetView> views;
    for (int32_t m = 0; m < s.M; ++m) nets.emplace_back(ValueNetDims{s.nb, s.d, s.hidden, m == 0 ? s.d_dense : 0}, rng);
    for (auto& n : nets) views.push_back(n.view());
    test::RandomFeatures f(s.B, 40, s.d_dense, s.w, rng);
    std::vector<float> betas(s.M);
    for (auto& b : betas) b = 0.25f + static_cast<float>(rng() % 100) / 50.0f;
    std::vector<float> vc(s.B * s.M), cc(s.B), vg(s.B * s.M), cg(s.B);
    score_values(f.view(), views.data(), s.M, betas.data(), vc.data(), cc.data(), 2);
    iro::cuda::score_values(f.view(), views.data(), s.M, betas.data(), vg.data(), cg.data(), 1);
    int bad = 0;
    for (size_t i = 0; i < vc.size(); ++i) bad += !close(vc[i], vg[i]);
    for (size_t i = 0; i < cc.size(); ++i) bad += !close(cc[i], cg[i]);
    expect(bad == 0, "value scoring B=" + std::to_string(s.B) + " M=" + std::to_string(s.M) + ": " + std::to_string(bad) + " values differ");
  }
}

void check_resampling(std::mt19937& rng) {
  const std::vector<std::vector<int32_t>> shapes = {{1}, {16}, {16, 0, 5, 16}, {3000}, {1024, 1025, 7}, std::vector<int32_t>(200, 16)};
  for (const auto& sizes : shapes) {
    for (int variant = 0; variant < 3; ++variant) {
      const auto off = offsets_of(sizes);
      const auto sc = test::random_scores(off, rng, variant == 1, variant != 0);
      const int32_t n = static_cast<int32_t>(sizes.size());
      const std::string tag = " (segments " + std::to_string(n) + ", first " + std::to_string(sizes[0]) + ", variant " + std::to_string(variant) + ")";
      for (float tau : {0.05f, 1.0f}) {
        std::vector<float> lc(sc.size()), lg(sc.size()), ec(n), eg(n);
        softmax_weights(sc.data(), off.data(), n, tau, lc.data(), ec.data(), 1);
        iro::cuda::softmax_weights(sc.data(), off.data(), n, tau, lg.data(), eg.data(), 1);
        int bad = 0;
        for (size_t i = 0; i < lc.size(); ++i) bad += !(close(lc[i], lg[i]) || (std::isinf(lc[i]) && lc[i] == lg[i]));
        for (int32_t i = 0; i < n; ++i) bad += !close(ec[i], eg[i]);
        expect(bad == 0, "softmax weights" + tag);
        std::vector<int32_t> doff(1, 0);
        for (int32_t s : sizes) doff.push_back(doff.back() + (s ? 1 + static_cast<int32_t>(rng() % 50) : 0));
        for (auto m : {ResampleMethod::kSystematic, ResampleMethod::kStratified, ResampleMethod::kMultinomial}) {
          std::vector<int32_t> dc(doff.back()), dg(doff.back());
          const uint32_t step = rng() % 10;
          resample(sc.data(), off.data(), n, tau, m, doff.data(), 777, step, nullptr, dc.data(), 1);
          iro::cuda::resample(sc.data(), off.data(), n, tau, m, doff.data(), 777, step, nullptr, dg.data(), 1);
          expect(dc == dg, "resample method " + std::to_string(static_cast<int>(m)) + tag);
        }
      }
      const int32_t w = std::min<int32_t>(*std::min_element(sizes.begin(), sizes.end()), 4);
      std::vector<int32_t> tc(n * w), tg(n * w);
      top_w(sc.data(), off.data(), n, w, tc.data(), 1);
      iro::cuda::top_w(sc.data(), off.data(), n, w, tg.data(), 1);
      expect(tc == tg, "top-w" + tag);
      std::vector<uint64_t> hashes(sc.size());
      for (auto& h : hashes) h = rng() % 3;
      diverse_top_w(sc.data(), hashes.data(), off.data(), n, w, tc.data(), 1);
      iro::cuda::diverse_top_w(sc.data(), hashes.data(), off.data(), n, w, tg.data(), 1);
      expect(tc == tg, "diverse top-w" + tag);
      const bool by4 = std::all_of(sizes.begin(), sizes.end(), [](int32_t x) { return x % 4 == 0; });
      const int32_t k = by4 ? 4 : 1;
      std::vector<int32_t> gc(sc.size() / k), gg(sc.size() / k);
      group_best(sc.data(), off.data(), n, k, gc.data(), 1);
      iro::cuda::group_best(sc.data(), off.data(), n, k, gg.data(), 1);
      expect(gc == gg, "group-best" + tag);
    }
  }
  // Errors match: NaN is INVALID_ARGUMENT on both paths.
  const float bad[] = {0.0f, NAN};
  const int32_t off[] = {0, 2};
  int32_t out[2];
  std::string code;
  try { iro::cuda::top_w(bad, off, 1, 1, out, 1); } catch (const Error& e) { code = e.code(); }
  expect(code == codes::kInvalidArgument, "CUDA top-w rejects NaN with INVALID_ARGUMENT");
}

void check_beams(std::mt19937& rng) {
  const SamplingParams sets[] = {{0.7f, 50, 1.0f, 0.0f}, {0.0f, 0, 1.0f, 0.0f}, {1.3f, 0, 0.8f, 0.0f}, {0.5f, 5, 0.9f, 0.05f}, {1.0f, 0, 1.0f, 0.02f}};
  for (int32_t V : {7, 1000, 32000}) {
    for (const SamplingParams& sp : sets) {
      const int32_t R = 1 + static_cast<int32_t>(rng() % 5), cap = 12;
      std::vector<int32_t> poff(1, 0), parents, k;
      for (int32_t r = 0; r < R; ++r) {
        const int32_t w = 1 + static_cast<int32_t>(rng() % 4), kk = 1 + static_cast<int32_t>(rng() % 4);
        for (int32_t i = 0; i < w; ++i) parents.push_back(static_cast<int32_t>(rng() % (w * kk)));
        poff.push_back(static_cast<int32_t>(parents.size()));
        k.push_back(kk);
      }
      const BeamBatch b{R, poff.data(), parents.data(), k.data()};
      const int32_t slots = plan_beams(b).total_slots();
      std::vector<float> logits(static_cast<size_t>(slots) * V);
      std::normal_distribution<float> nd(0.0f, 3.0f);
      for (auto& x : logits) x = (rng() % 4 == 0) ? static_cast<float>(rng() % 3) : nd(rng);
      std::vector<int32_t> lc(slots), tc(static_cast<size_t>(slots) * cap, -1);
      for (int32_t s = 0; s < slots; ++s) {
        lc[s] = static_cast<int32_t>(rng() % (cap - 1));
        for (int32_t t = 0; t < lc[s]; ++t) tc[s * cap + t] = static_cast<int32_t>(rng() % V);
      }
      auto lg = lc;
      auto tg = tc;
      const BeamLogits L{logits.data(), V, slots, nullptr};
      const BeamSampling S{&sp, 1, 4242, nullptr};
      const BeamExpansion ec = expand_beams(b, L, S, BeamHistories{tc.data(), lc.data(), cap}, 2);
      const BeamExpansion eg = iro::cuda::expand_beams(b, L, S, BeamHistories{tg.data(), lg.data(), cap}, 1);
      const std::string tag = " (V " + std::to_string(V) + ", T " + std::to_string(sp.temperature) + ", top_k " + std::to_string(sp.top_k) + ")";
      expect(ec.tokens == eg.tokens, "beam tokens" + tag);
      expect(ec.layout.child_parent == eg.layout.child_parent, "beam layout" + tag);
      expect(tc == tg && lc == lg, "beam histories" + tag);
      int bad = 0;
      for (size_t i = 0; i < ec.logprobs.size(); ++i) bad += !close(ec.logprobs[i], eg.logprobs[i]);
      expect(bad == 0, "beam logprobs" + tag);
    }
  }
}

// ---- benchmark ----

double seconds_of(const std::function<void()>& fn, double min_seconds = 0.3) {
  fn();  // warm-up
  int reps = 0;
  const auto t0 = std::chrono::steady_clock::now();
  double el = 0;
  do {
    fn();
    ++reps;
    el = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  } while (el < min_seconds);
  return el / reps;
}

void bench(const std::string& path) {
  std::mt19937 rng(1);
  const int hw = std::max(1u, std::thread::hardware_concurrency());
  std::ostringstream js;
  js << "{\n  \"device\": \"" << iro::cuda::probe_device().name << "\",\n  \"cpuThreads\": " << hw
     << ",\n  \"peakBandwidthGBs\": " << iro::cuda::peak_memory_bandwidth_gbs() << ",\n  \"valueScoring\": [";
  std::printf("%-28s %14s %14s %14s %14s %10s\n", "value scoring", "cpu1 st/s", "cpuN st/s", "cuda st/s", "kernel st/s", "bw frac");
  std::vector<test::RandomNet> nets;
  for (int m = 0; m < 3; ++m) nets.emplace_back(ValueNetDims{1 << 20, 64, 64, 0}, rng);
  std::vector<ValueNetView> views;
  for (auto& n : nets) views.push_back(n.view());
  const float betas[] = {1.0f, 0.5f, 2.0f};
  bool first = true;
  for (int M : {1, 3}) {
    const iro::cuda::DeviceValueNets dev(views.data(), M);
    for (int B : {16, 1024, 65536}) {
      test::RandomFeatures f(B, 60, 0, false, rng);  // about 30 ids per state
      std::vector<float> v(static_cast<size_t>(B) * M), c(B);
      const double c1 = seconds_of([&] { score_values(f.view(), views.data(), M, betas, v.data(), c.data(), 1); });
      const double cn = seconds_of([&] { score_values(f.view(), views.data(), M, betas, v.data(), c.data(), hw); });
      const double g = seconds_of([&] { iro::cuda::score_values(f.view(), dev, betas, v.data(), c.data()); });
      const double kms = iro::cuda::time_score_kernels(f.view(), dev, betas, 20);
      const double ids = f.offsets.back();
      const double bytes = static_cast<double>(M) * (ids * (64 * 4 + 4) + B * 8.0);
      const double bw = kms > 0 ? bytes / (kms * 1e-3) / 1e9 : 0.0;
      const double peak = iro::cuda::peak_memory_bandwidth_gbs();
      std::printf("B=%-6d M=%d %15s %14.3g %14.3g %14.3g %14.3g %10.3f\n", B, M, "", B / c1, B / cn, B / g, B / (kms * 1e-3), peak > 0 ? bw / peak : 0.0);
      js << (first ? "" : ",") << "\n    {\"B\": " << B << ", \"M\": " << M << ", \"cpu1StatesPerS\": " << B / c1 << ", \"cpuNStatesPerS\": " << B / cn
         << ", \"cudaStatesPerS\": " << B / g << ", \"cudaKernelStatesPerS\": " << B / (kms * 1e-3) << ", \"kernelMs\": " << kms
         << ", \"achievedGBs\": " << bw << ", \"bandwidthFraction\": " << (peak > 0 ? bw / peak : 0.0) << "}";
      first = false;
    }
  }
  js << "\n  ],\n  \"resampling\": [";
  std::printf("%-28s %14s %14s\n", "resampling (draws = N)", "cpu draws/s", "cuda draws/s");
  first = true;
  for (int N : {16, 1000000}) {
    const std::vector<int32_t> off = {0, N}, doff = {0, N};
    const auto sc = test::random_scores(off, rng, false, false);
    std::vector<int32_t> d(N);
    for (auto m : {ResampleMethod::kSystematic, ResampleMethod::kMultinomial}) {
      const double c = seconds_of([&] { resample(sc.data(), off.data(), 1, 1.0f, m, doff.data(), 1, 0, nullptr, d.data(), 1); });
      const double g = seconds_of([&] { iro::cuda::resample(sc.data(), off.data(), 1, 1.0f, m, doff.data(), 1, 0, nullptr, d.data(), 1); });
      const char* name = m == ResampleMethod::kSystematic ? "systematic" : "multinomial";
      std::printf("N=%-8d %-17s %14.3g %14.3g\n", N, name, N / c, N / g);
      js << (first ? "" : ",") << "\n    {\"N\": " << N << ", \"method\": \"" << name << "\", \"cpuDrawsPerS\": " << N / c << ", \"cudaDrawsPerS\": " << N / g << "}";
      first = false;
    }
  }
  js << "\n  ],\n  \"beamExpansion\": [";
  {
    const int32_t R = 64, w = 4, kk = 4, V = 32000, cap = 64, slots = R * w * kk;
    std::vector<int32_t> poff(R + 1), parents(R * w), k(R, kk);
    for (int32_t r = 0; r <= R; ++r) poff[r] = r * w;
    for (auto& p : parents) p = static_cast<int32_t>(rng() % (w * kk));
    std::vector<float> logits(static_cast<size_t>(slots) * V);
    std::normal_distribution<float> nd(0.0f, 3.0f);
    for (auto& x : logits) x = nd(rng);
    std::vector<int32_t> lengths(slots, 10);
    const SamplingParams sp{0.7f, 50, 0.95f, 0.0f};
    const BeamBatch b{R, poff.data(), parents.data(), k.data()};
    const BeamLogits L{logits.data(), V, slots, nullptr};
    const BeamSampling S{&sp, 1, 1, nullptr};
    std::vector<int32_t> tok(slots);
    const BeamLayout lay = plan_beams(b);
    const double c = seconds_of([&] { sample_children(lay, L, S, lengths.data(), tok.data(), nullptr, hw); });
    const double g = seconds_of([&] { iro::cuda::sample_children(lay, L, S, lengths.data(), tok.data(), nullptr, 1); });
    std::printf("beam sampling %d children, V=%d: cpu %.3g children/s, cuda %.3g children/s\n", slots, V, slots / c, slots / g);
    js << "\n    {\"children\": " << slots << ", \"vocab\": " << V << ", \"cpuChildrenPerS\": " << slots / c << ", \"cudaChildrenPerS\": " << slots / g << "}";
  }
  js << "\n  ]\n}\n";
  std::ofstream(path) << js.str();
  std::printf("wrote %s\n", path.c_str());
}

}  // namespace

int main(int argc, char** argv) {
  const iro::cuda::DeviceStatus st = iro::cuda::probe_device();
  if (!st.usable) {
    std::printf("SKIP: no CUDA device (%s)\n", st.reason.c_str());
    return 0;
  }
  std::printf("device: %s (cc %s, driver %d, runtime %d)\n", st.name.c_str(), st.compute_capability.c_str(), st.driver_version, st.runtime_version);
  if (argc > 2 && std::strcmp(argv[1], "--bench") == 0) {
    try {
      bench(argv[2]);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "benchmark failed: %s\n", e.what());
      return 1;
    }
    return 0;
  }
  std::mt19937 rng(2024);
  try {
    check_value_scoring(rng);
    check_resampling(rng);
    check_beams(rng);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "unexpected exception: %s\n", e.what());
    return 1;
  }
  std::printf("%d checks, %d mismatches\n", g_checks, g_fail);
  return g_fail == 0 ? 0 : 1;
}
