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
                          {64, 1, 4093, 64, 64, 128, true}, {3000, 3, 1 << 12, 32, 48, 0, true}, {1, 2, 97, 300, 200, 3, true}};
  int64_t not_identical = 0;
  for (const Shape& s : shapes) {
    std::vector<test::RandomNet> nets;
    std::vector<ValueNetView> views;
    for (int32_t m = 0; m < s.M; ++m) nets.emplace_back(ValueNetDims{s.nb, s.d, s.hidden, m == 0 ? s.d_dense : 0}, rng);
    for (auto& n : nets) views.push_back(n.view());
    test::RandomFeatures f(s.B, 40, s.d_dense, s.w, rng);
    std::vector<float> betas(s.M);
    for (auto& b : betas) b = 0.25f + static_cast<float>(rng() % 100) / 50.0f;
    // The same CSR with 5 unused leading ids (offsets[0] = 5): neither side may read them.
    std::vector<int32_t> off5(f.offsets);
    for (auto& o : off5) o += 5;
    std::vector<uint32_t> ids5(5, 0xdeadbeefu);
    ids5.insert(ids5.end(), f.ids.begin(), f.ids.end());
    std::vector<float> w5(5, NAN);
    w5.insert(w5.end(), f.weights.begin(), f.weights.end());
    SparseFeatures x5 = f.view();
    x5.offsets = off5.data();
    x5.ids = ids5.data();
    if (x5.weights) x5.weights = w5.data();
    std::vector<float> vc(s.B * s.M), cc(s.B), vg(s.B * s.M), cg(s.B), vr(s.B * s.M), cr(s.B), v5(s.B * s.M), c5(s.B);
    score_values(f.view(), views.data(), s.M, betas.data(), vc.data(), cc.data(), 2);
    iro::cuda::score_values(f.view(), views.data(), s.M, betas.data(), vg.data(), cg.data(), 1);
    const iro::cuda::DeviceValueNets dev(views.data(), s.M);
    iro::cuda::score_values(f.view(), dev, betas.data(), vr.data(), cr.data());
    iro::cuda::score_values(x5, dev, betas.data(), v5.data(), c5.data());
    int bad = 0;
    for (size_t i = 0; i < vc.size(); ++i) bad += !close(vc[i], vg[i]);
    for (size_t i = 0; i < cc.size(); ++i) bad += !close(cc[i], cg[i]);
    for (size_t i = 0; i < vc.size(); ++i) not_identical += vc[i] != vg[i];
    for (size_t i = 0; i < cc.size(); ++i) not_identical += cc[i] != cg[i];
    const std::string tag = " B=" + std::to_string(s.B) + " M=" + std::to_string(s.M);
    expect(bad == 0, "value scoring" + tag + ": " + std::to_string(bad) + " values differ");
    expect(vr == vg && cr == cg, "value scoring with resident nets" + tag);
    expect(v5 == vg && c5 == cg, "value scoring with offsets[0] > 0" + tag);
  }
  // Same op order with round-to-nearest ops on both sides: the values should be bit-identical (the
  // pass criterion stays the 1e-5 contract; a nonzero count here points at FMA contraction).
  std::printf("value scoring: %lld values not bit-identical to the CPU\n", static_cast<long long>(not_identical));
}

// The error code an API call throws ("" when it does not throw).
std::string code_of(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const Error& e) {
    return e.code();
  } catch (const std::exception& e) {
    return std::string("non-iro exception: ") + e.what();
  }
  return "";
}

// Resampling, softmax and the rankings on the same inputs. The CPU runs with `cpu_threads` (its
// threaded CDF, candidate-side assignment and guide-table paths), the segments start at a nonzero
// base offset (a NaN prefix that neither side may read) and the draws at a nonzero draw offset.
void compare_resampling(const std::vector<int32_t>& sizes, int variant, const std::vector<float>& taus,
                        const std::function<int32_t(int32_t)>& draws_of, int cpu_threads, bool with_request_ids, std::mt19937& rng) {
  constexpr int32_t kBase = 3, kDrawBase = 2;
  const auto off0 = offsets_of(sizes);
  const auto sc0 = test::random_scores(off0, rng, variant == 1, variant != 0);
  std::vector<int32_t> off(off0);
  for (auto& o : off) o += kBase;
  std::vector<float> sc(kBase, NAN);
  sc.insert(sc.end(), sc0.begin(), sc0.end());
  const int32_t n = static_cast<int32_t>(sizes.size());
  std::vector<uint32_t> req(sizes.size());
  for (auto& r : req) r = static_cast<uint32_t>(rng());
  const uint32_t* rq = with_request_ids ? req.data() : nullptr;
  const std::string tag = " (segments " + std::to_string(n) + ", first " + std::to_string(sizes[0]) + ", variant " + std::to_string(variant) +
                          ", cpu threads " + std::to_string(cpu_threads) + (with_request_ids ? ", request ids" : "") + ")";
  for (float tau : taus) {
    const std::string ttag = tag.substr(0, tag.size() - 1) + ", tau " + std::to_string(tau) + ")";
    std::vector<float> lc(sc.size(), 0.0f), lg(sc.size(), 0.0f), ec(n), eg(n);
    softmax_weights(sc.data(), off.data(), n, tau, lc.data(), ec.data(), cpu_threads);
    iro::cuda::softmax_weights(sc.data(), off.data(), n, tau, lg.data(), eg.data(), 1);
    int bad = 0;
    for (size_t i = 0; i < lc.size(); ++i) bad += !(close(lc[i], lg[i]) || (std::isinf(lc[i]) && lc[i] == lg[i]));
    for (int32_t i = 0; i < n; ++i) bad += !close(ec[i], eg[i]);
    expect(bad == 0, "softmax weights" + ttag + ": " + std::to_string(bad) + " differ");
    std::vector<int32_t> doff(1, kDrawBase);
    for (int32_t s : sizes) doff.push_back(doff.back() + (s ? draws_of(s) : 0));
    for (auto m : {ResampleMethod::kSystematic, ResampleMethod::kStratified, ResampleMethod::kMultinomial}) {
      std::vector<int32_t> dc(doff.back(), -7), dg(doff.back(), -7);
      const uint32_t step = rng() % 1000;
      const uint64_t seed = (static_cast<uint64_t>(rng()) << 32) | rng();
      resample(sc.data(), off.data(), n, tau, m, doff.data(), seed, step, rq, dc.data(), cpu_threads);
      iro::cuda::resample(sc.data(), off.data(), n, tau, m, doff.data(), seed, step, rq, dg.data(), 1);
      size_t first = 0;
      while (first < dc.size() && dc[first] == dg[first]) ++first;
      expect(dc == dg, "resample method " + std::to_string(static_cast<int>(m)) + ttag + ", " + std::to_string(doff.back() - kDrawBase) +
                           " draws" + (first < dc.size() ? ": first difference at " + std::to_string(first) + " (cpu " + std::to_string(dc[first]) +
                                                               ", cuda " + std::to_string(dg[first]) + ")"
                                                         : ""));
    }
  }
  const int32_t w = std::min<int32_t>(*std::min_element(sizes.begin(), sizes.end()), 4);
  std::vector<int32_t> tc(n * w), tg(n * w);
  top_w(sc.data(), off.data(), n, w, tc.data(), cpu_threads);
  iro::cuda::top_w(sc.data(), off.data(), n, w, tg.data(), 1);
  expect(tc == tg, "top-w" + tag);
  std::vector<uint64_t> hashes(sc.size());
  for (auto& h : hashes) h = rng() % 3;
  diverse_top_w(sc.data(), hashes.data(), off.data(), n, w, tc.data(), cpu_threads);
  iro::cuda::diverse_top_w(sc.data(), hashes.data(), off.data(), n, w, tg.data(), 1);
  expect(tc == tg, "diverse top-w" + tag);
  // All candidates (w = the smallest segment), so the -inf tail and duplicate fill are compared too.
  const int32_t wa = *std::min_element(sizes.begin(), sizes.end());
  if (wa > 4 && wa <= 4096) {
    std::vector<int32_t> ac(static_cast<size_t>(n) * wa), ag(static_cast<size_t>(n) * wa);
    diverse_top_w(sc.data(), hashes.data(), off.data(), n, wa, ac.data(), cpu_threads);
    iro::cuda::diverse_top_w(sc.data(), hashes.data(), off.data(), n, wa, ag.data(), 1);
    expect(ac == ag, "diverse top-w, w = " + std::to_string(wa) + tag);
    top_w(sc.data(), off.data(), n, wa, ac.data(), cpu_threads);
    iro::cuda::top_w(sc.data(), off.data(), n, wa, ag.data(), 1);
    expect(ac == ag, "top-w, w = " + std::to_string(wa) + tag);
  }
  const bool by4 = std::all_of(sizes.begin(), sizes.end(), [](int32_t x) { return x % 4 == 0; });
  const int32_t k = by4 ? 4 : 1;
  std::vector<int32_t> gc(sc0.size() / k), gg(sc0.size() / k);
  group_best(sc.data(), off.data(), n, k, gc.data(), cpu_threads);
  iro::cuda::group_best(sc.data(), off.data(), n, k, gg.data(), 1);
  expect(gc == gg, "group-best" + tag);
}

void check_resampling(std::mt19937& rng) {
  const int hw = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  auto few = [&rng](int32_t) { return 1 + static_cast<int32_t>(rng() % 50); };
  // Small segments, few draws (binary-search multinomial path), one CPU thread.
  const std::vector<std::vector<int32_t>> shapes = {{1}, {16}, {16, 0, 5, 16}, {3000}, {1024, 1025, 7}, std::vector<int32_t>(200, 16)};
  for (const auto& sizes : shapes)
    for (int variant = 0; variant < 3; ++variant) compare_resampling(sizes, variant, {0.05f, 1.0f}, few, 1, variant == 2, rng);
  // Many draws: the multinomial guide table (n > 64 and draws > 64), the candidate-side assignment
  // with long runs, extreme temperatures (1e-3: most weights underflow to 0, draws fall back to the
  // last positive index; 1e3: near-uniform), and the CPU's threaded paths.
  auto many = [&rng](int32_t s) { return 65 + static_cast<int32_t>(rng() % static_cast<uint32_t>(2 * s + 1)); };
  const std::vector<std::vector<int32_t>> big = {{65, 200, 0, 4096}, {70000}, {100000, 3, 0, 65537}, std::vector<int32_t>(40, 5000)};
  for (const auto& sizes : big)
    for (int variant = 0; variant < 3; ++variant)
      compare_resampling(sizes, variant, {1e-3f, 1.0f, 1000.0f}, many, variant == 0 ? 1 : hw, variant != 1, rng);
  // A million candidates (977 CDF blocks) and a million and one draws.
  compare_resampling({1 << 20}, 2, {0.05f, 1.0f}, [](int32_t s) { return s + 1; }, hw, true, rng);

  // Errors match: INVALID_ARGUMENT on both paths.
  const float nan2[] = {0.0f, NAN}, pinf2[] = {0.0f, INFINITY}, ninf2[] = {-INFINITY, -INFINITY}, ok2[] = {0.0f, 1.0f};
  const int32_t off[] = {0, 2}, off_empty[] = {0, 0}, doff[] = {0, 3};
  int32_t out[4];
  expect(code_of([&] { iro::cuda::top_w(nan2, off, 1, 1, out, 1); }) == codes::kInvalidArgument, "CUDA top-w rejects NaN with INVALID_ARGUMENT");
  struct Case { const char* what; std::function<void()> cpu, gpu; };
  const Case cases[] = {
      {"+inf score", [&] { resample(pinf2, off, 1, 1.0f, ResampleMethod::kSystematic, doff, 1, 0, nullptr, out, 1); },
       [&] { iro::cuda::resample(pinf2, off, 1, 1.0f, ResampleMethod::kSystematic, doff, 1, 0, nullptr, out, 1); }},
      {"all -inf segment", [&] { resample(ninf2, off, 1, 1.0f, ResampleMethod::kMultinomial, doff, 1, 0, nullptr, out, 1); },
       [&] { iro::cuda::resample(ninf2, off, 1, 1.0f, ResampleMethod::kMultinomial, doff, 1, 0, nullptr, out, 1); }},
      {"NaN softmax", [&] { softmax_weights(nan2, off, 1, 1.0f, nullptr, nullptr, 1); },
       [&] { iro::cuda::softmax_weights(nan2, off, 1, 1.0f, nullptr, nullptr, 1); }},
      {"tau 0", [&] { resample(ok2, off, 1, 0.0f, ResampleMethod::kSystematic, doff, 1, 0, nullptr, out, 1); },
       [&] { iro::cuda::resample(ok2, off, 1, 0.0f, ResampleMethod::kSystematic, doff, 1, 0, nullptr, out, 1); }},
      {"tau NaN", [&] { softmax_weights(ok2, off, 1, NAN, nullptr, nullptr, 1); },
       [&] { iro::cuda::softmax_weights(ok2, off, 1, NAN, nullptr, nullptr, 1); }},
      {"unknown method", [&] { resample(ok2, off, 1, 1.0f, static_cast<ResampleMethod>(7), doff, 1, 0, nullptr, out, 1); },
       [&] { iro::cuda::resample(ok2, off, 1, 1.0f, static_cast<ResampleMethod>(7), doff, 1, 0, nullptr, out, 1); }},
      {"draws from an empty segment", [&] { resample(ok2, off_empty, 1, 1.0f, ResampleMethod::kStratified, doff, 1, 0, nullptr, out, 1); },
       [&] { iro::cuda::resample(ok2, off_empty, 1, 1.0f, ResampleMethod::kStratified, doff, 1, 0, nullptr, out, 1); }},
      {"w > segment", [&] { top_w(ok2, off, 1, 3, out, 1); }, [&] { iro::cuda::top_w(ok2, off, 1, 3, out, 1); }},
      {"diverse all -inf", [&] { const uint64_t h[] = {1, 2}; diverse_top_w(ninf2, h, off, 1, 1, out, 1); },
       [&] { const uint64_t h[] = {1, 2}; iro::cuda::diverse_top_w(ninf2, h, off, 1, 1, out, 1); }},
      {"group-best k not dividing", [&] { group_best(ok2, off, 1, 3, out, 1); }, [&] { iro::cuda::group_best(ok2, off, 1, 3, out, 1); }},
  };
  for (const Case& c : cases) {
    const std::string a = code_of(c.cpu), b = code_of(c.gpu);
    expect(a == codes::kInvalidArgument && b == a, std::string("error code for ") + c.what + ": cpu '" + a + "', cuda '" + b + "'");
  }
}

// Beam expansion: layout, histories, tokens and log-probs. Variants: 0 = one shared parameter set;
// 1 = one set per request and request ids; 2 = a logits row map (rows) over a larger matrix with
// -inf and -0.0 / +0.0 logits; 3 = B = 1 (one request, one parent, one child).
void check_beams(std::mt19937& rng) {
  const SamplingParams sets[] = {{0.7f, 50, 1.0f, 0.0f}, {0.0f, 0, 1.0f, 0.0f}, {1.3f, 0, 0.8f, 0.0f}, {0.5f, 5, 0.9f, 0.05f}, {1.0f, 0, 1.0f, 0.02f}};
  constexpr int32_t kSets = sizeof(sets) / sizeof(sets[0]);
  for (int32_t V : {1, 7, 1000, 32000}) {
    for (int variant = 0; variant < 4; ++variant) {
      for (int32_t si = 0; si < kSets; ++si) {
        const SamplingParams& sp = sets[si];
        const int32_t R = variant == 3 ? 1 : 1 + static_cast<int32_t>(rng() % 5), cap = 12;
        std::vector<int32_t> poff(1, 0), parents, k;
        for (int32_t r = 0; r < R; ++r) {
          const int32_t w = variant == 3 ? 1 : 1 + static_cast<int32_t>(rng() % 4), kk = variant == 3 ? 1 : 1 + static_cast<int32_t>(rng() % 4);
          for (int32_t i = 0; i < w; ++i) parents.push_back(static_cast<int32_t>(rng() % (w * kk)));
          poff.push_back(static_cast<int32_t>(parents.size()));
          k.push_back(kk);
        }
        const BeamBatch b{R, poff.data(), parents.data(), k.data()};
        const int32_t slots = plan_beams(b).total_slots();
        const int32_t n_rows = variant == 2 ? slots + 3 : slots;
        std::vector<float> logits(static_cast<size_t>(n_rows) * V);
        std::normal_distribution<float> nd(0.0f, 3.0f);
        for (auto& x : logits) x = (rng() % 4 == 0) ? static_cast<float>(rng() % 3) : nd(rng);
        std::vector<int32_t> rows;
        if (variant == 2) {
          for (size_t i = 0; i < logits.size(); ++i) {
            const uint32_t c = rng() % 16;
            if (c == 0) logits[i] = -INFINITY;
            else if (c == 1) logits[i] = -0.0f;
            else if (c == 2) logits[i] = 0.0f;
          }
          for (int32_t r = 0; r < n_rows; ++r) logits[static_cast<size_t>(r) * V] = 0.5f;  // a finite logit in every row
          rows.resize(static_cast<size_t>(slots));
          for (auto& x : rows) x = static_cast<int32_t>(rng() % static_cast<uint32_t>(n_rows));
        }
        std::vector<int32_t> lc(slots), tc(static_cast<size_t>(slots) * cap, -1);
        for (int32_t s = 0; s < slots; ++s) {
          lc[s] = static_cast<int32_t>(rng() % (cap - 1));
          for (int32_t t = 0; t < lc[s]; ++t) tc[s * cap + t] = static_cast<int32_t>(rng() % V);
        }
        auto lg = lc;
        auto tg = tc;
        std::vector<SamplingParams> params(1, sp);
        std::vector<uint32_t> req;
        if (variant == 1) {
          params.clear();
          for (int32_t r = 0; r < R; ++r) params.push_back(sets[(si + r) % kSets]);
          for (int32_t r = 0; r < R; ++r) req.push_back(static_cast<uint32_t>(rng()));
        }
        const BeamLogits L{logits.data(), V, n_rows, rows.empty() ? nullptr : rows.data()};
        const BeamSampling S{params.data(), static_cast<int32_t>(params.size()), (static_cast<uint64_t>(rng()) << 32) | 4242u,
                             req.empty() ? nullptr : req.data()};
        const BeamExpansion ec = expand_beams(b, L, S, BeamHistories{tc.data(), lc.data(), cap}, 2);
        const BeamExpansion eg = iro::cuda::expand_beams(b, L, S, BeamHistories{tg.data(), lg.data(), cap}, 1);
        const std::string tag = " (V " + std::to_string(V) + ", variant " + std::to_string(variant) + ", T " + std::to_string(sp.temperature) +
                                ", top_k " + std::to_string(sp.top_k) + ")";
        expect(ec.tokens == eg.tokens, "beam tokens" + tag);
        expect(ec.layout.child_parent == eg.layout.child_parent && ec.layout.child_parent_index == eg.layout.child_parent_index &&
                   ec.layout.child_number == eg.layout.child_number && ec.layout.fork_offsets == eg.layout.fork_offsets &&
                   ec.layout.forks.size() == eg.layout.forks.size() &&
                   std::equal(ec.layout.forks.begin(), ec.layout.forks.end(), eg.layout.forks.begin(),
                              [](const ForkOp& x, const ForkOp& y) { return x.dst_slot == y.dst_slot && x.src_slot == y.src_slot; }),
               "beam layout and fork plan" + tag);
        expect(tc == tg && lc == lg, "beam histories" + tag);
        int bad = 0;
        for (size_t i = 0; i < ec.logprobs.size(); ++i) bad += !close(ec.logprobs[i], eg.logprobs[i]);
        expect(bad == 0, "beam logprobs" + tag);
      }
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
