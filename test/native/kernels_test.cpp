// Native checks of the CPU kernels (no Node): exact small cases, invariants, determinism across
// thread counts, and the error contract.
#include <cmath>
#include <cstring>
#include <random>
#include <limits>
#include <map>
#include <set>

#include "native/common/det_exp.h"
#include "native/common/error.h"
#include "native/kernels/beam_expand.h"
#include "native/kernels/resample.h"
#include "native/kernels/value_score.h"
#include "test/native/kernel_inputs.h"
#include "test/native/native_test.h"

using namespace iro;

IRO_TEST(value_score_hand_computed) {
  // d = 2, hidden = 2, n_buckets = 3: id 4 -> bucket 1, id 3 -> bucket 0.
  const float E[] = {1, 2, 3, 4, 5, 6}, b0[] = {0.5f, -0.5f}, W1[] = {1, 0, 1, -1}, b1[] = {0, -10}, w2[] = {2, 3};
  ValueNetView n;
  n.dims = {3, 2, 2, 0};
  n.E = E; n.b0 = b0; n.W1 = W1; n.b1 = b1; n.w2 = w2; n.b2 = 1.0f;
  const int32_t off[] = {0, 2};
  const uint32_t ids[] = {4, 3};
  const float wts[] = {1.0f, 2.0f};
  SparseFeatures x;
  x.n_states = 1; x.offsets = off; x.ids = ids; x.weights = wts;
  const float beta = 2.0f;
  float v = 0, c = 0;
  score_values(x, &n, 1, &beta, &v, &c, 1);
  // a = (0.5 + 3 + 2*1, -0.5 + 4 + 2*2) = (5.5, 7.5); h = relu(5.5, 5.5 - 7.5 - 10) = (5.5, 0); V = 1 + 11 = 12
  CHECK(v == 12.0f);
  CHECK(c == 6.0f);
}

IRO_TEST(value_score_threads_identical) {
  std::mt19937 rng(7);
  test::RandomNet a({97, 16, 24, 5}, rng), b({1000, 16, 8, 0}, rng);
  test::RandomFeatures f(301, 40, 5, true, rng);
  const ValueNetView nets[] = {a.view(), b.view()};
  const float betas[] = {0.5f, 2.0f};
  std::vector<float> v1(301 * 2), c1(301), v4(301 * 2), c4(301);
  score_values(f.view(), nets, 2, betas, v1.data(), c1.data(), 1);
  score_values(f.view(), nets, 2, betas, v4.data(), c4.data(), 4);
  CHECK(v1 == v4);
  CHECK(c1 == c4);
}

IRO_TEST(value_score_errors) {
  std::mt19937 rng(1);
  test::RandomNet a({10, 4, 4, 3}, rng);
  test::RandomFeatures f(4, 5, 3, false, rng);
  ValueNetView n = a.view();
  float beta = 1.0f, c[4];
  score_values(f.view(), &n, 1, &beta, nullptr, c, 1);  // valid
  float bad_beta = 0.0f;
  CHECK_THROWS_CODE(score_values(f.view(), &n, 1, &bad_beta, nullptr, c, 1), codes::kInvalidArgument);
  bad_beta = std::numeric_limits<float>::quiet_NaN();
  CHECK_THROWS_CODE(score_values(f.view(), &n, 1, &bad_beta, nullptr, c, 1), codes::kInvalidArgument);
  SparseFeatures x = f.view();
  x.d_dense = 2;
  CHECK_THROWS_CODE(score_values(x, &n, 1, &beta, nullptr, c, 1), codes::kInvalidArgument);
  x = f.view();
  x.dense = nullptr;
  CHECK_THROWS_CODE(score_values(x, &n, 1, &beta, nullptr, c, 1), codes::kInvalidArgument);
  std::vector<int32_t> off = f.offsets;
  off[2] = off[1] - 1;
  x = f.view();
  x.offsets = off.data();
  if (off[1] > 0) CHECK_THROWS_CODE(score_values(x, &n, 1, &beta, nullptr, c, 1), codes::kInvalidArgument);
}

// The vector-lane det_exp used by the CPU resampling must give the very bits of det_exp (the CUDA
// twin uses det_exp itself). Edge values: zeros, the underflow cut at -746, subnormal results, -inf.
IRO_TEST(det_exp_lanes_bit_identical) {
  std::mt19937_64 g(7);
  std::uniform_real_distribution<double> wide(-760.0, 5.0), narrow(-20.0, 0.0);
  const double edges[] = {0.0, -0.0, -746.0, -745.99999999, -746.00000001, -708.4, -708.3964185322641, -744.44,
                          -1e-300, -std::numeric_limits<double>::infinity(), -1e-17, 1.0, -0.34657359, -0.34657360};
  std::vector<double> x(1 << 16);
  for (size_t i = 0; i < x.size(); ++i) x[i] = i < std::size(edges) ? edges[i] : (i % 2 ? wide(g) : narrow(g));
  int mismatches = 0;
  for (size_t i = 0; i < x.size(); i += kDetExpLanes) {
    double y[kDetExpLanes];
    det_exp_lanes(x.data() + i, y);
    for (int l = 0; l < kDetExpLanes; ++l) {
      const double want = det_exp(x[i + l]);
      if (std::memcmp(&want, &y[l], sizeof want) != 0) ++mismatches;
    }
  }
  CHECK(mismatches == 0);
  CHECK(det_exp(0.0) == 1.0);
  CHECK(det_exp(-std::numeric_limits<double>::infinity()) == 0.0);
  CHECK(std::fabs(det_exp(-1.0) - std::exp(-1.0)) <= 2 * std::numeric_limits<double>::epsilon() * std::exp(-1.0));
}

IRO_TEST(resample_systematic_counts_and_dead_candidates) {
  const float s[] = {0.0f, 1.0f, -INFINITY, 2.0f, 0.5f};
  const int32_t off[] = {0, 5}, doff[] = {0, 1000};
  std::vector<int32_t> d(1000);
  resample(s, off, 1, 1.0f, ResampleMethod::kSystematic, doff, 42, 3, nullptr, d.data(), 1);
  std::vector<double> w = {std::exp(-2.0), std::exp(-1.0), 0.0, 1.0, std::exp(-1.5)};
  double tot = 0;
  for (double x : w) tot += x;
  std::map<int32_t, int> count;
  for (int32_t i : d) count[i]++;
  CHECK(count[2] == 0);
  for (int i = 0; i < 5; ++i) {
    const double e = 1000 * w[i] / tot;
    CHECK_MSG(count[i] >= std::floor(e) && count[i] <= std::ceil(e), "index " + std::to_string(i));
  }
}

IRO_TEST(resample_errors) {
  const float nan_s[] = {0.0f, NAN}, inf_s[] = {INFINITY, 0.0f}, dead[] = {-INFINITY, -INFINITY};
  const int32_t off[] = {0, 2}, doff[] = {0, 2};
  int32_t out[2];
  CHECK_THROWS_CODE(resample(nan_s, off, 1, 1.0f, ResampleMethod::kMultinomial, doff, 1, 0, nullptr, out, 1), codes::kInvalidArgument);
  CHECK_THROWS_CODE(top_w(inf_s, off, 1, 1, out, 1), codes::kInvalidArgument);
  CHECK_THROWS_CODE(group_best(dead, off, 1, 2, out, 1), codes::kInvalidArgument);
  const float ok[] = {1.0f, 2.0f};
  CHECK_THROWS_CODE(softmax_weights(ok, off, 1, 0.0f, nullptr, nullptr, 1), codes::kInvalidArgument);
  CHECK_THROWS_CODE(top_w(ok, off, 1, 3, out, 1), codes::kInvalidArgument);
}

IRO_TEST(beam_plan_invariants_and_histories) {
  std::mt19937 rng(3);
  for (int trial = 0; trial < 50; ++trial) {
    const int32_t w = 1 + static_cast<int32_t>(rng() % 4), k = 1 + static_cast<int32_t>(rng() % 4), slots = w * k;
    std::vector<int32_t> parents(w);
    for (auto& p : parents) p = static_cast<int32_t>(rng() % slots);
    const int32_t poff[] = {0, w};
    BeamBatch b{1, poff, parents.data(), &k};
    const BeamLayout L = plan_beams(b);
    std::set<int32_t> distinct(parents.begin(), parents.end()), dsts;
    CHECK(static_cast<int32_t>(L.forks.size()) == slots - static_cast<int32_t>(distinct.size()));
    for (const ForkOp& f : L.forks) {
      CHECK(!distinct.count(f.dst_slot) || L.child_parent[f.dst_slot] != f.dst_slot);
      CHECK(distinct.count(f.src_slot) == 1);
      dsts.insert(f.dst_slot);
    }
    for (const ForkOp& f : L.forks) CHECK(!dsts.count(f.src_slot));
    // Every parent entry has exactly k children.
    std::vector<int> per(w, 0);
    for (int32_t s = 0; s < slots; ++s) per[L.child_parent_index[s]]++;
    for (int c : per) CHECK(c == k);
    // Histories: each child gets its parent's tokens, then one sampled token.
    const int32_t cap = 6, V = 11;
    std::vector<int32_t> tokens(slots * cap, -1), lengths(slots);
    for (int32_t s = 0; s < slots; ++s) {
      lengths[s] = static_cast<int32_t>(rng() % cap);
      for (int32_t t = 0; t < lengths[s]; ++t) tokens[s * cap + t] = 100 * s + t;
    }
    const std::vector<int32_t> before = tokens, len_before = lengths;
    std::vector<float> logits(slots * V);
    for (auto& x : logits) x = static_cast<float>(rng() % 5);
    SamplingParams sp;
    sp.top_k = 4;
    BeamSampling samp{&sp, 1, 99, nullptr};
    BeamLogits lg{logits.data(), V, slots, nullptr};
    const BeamExpansion e = expand_beams(b, lg, samp, BeamHistories{tokens.data(), lengths.data(), cap}, 2);
    SamplerScratch scratch;
    for (int32_t s = 0; s < slots; ++s) {
      const int32_t p = L.child_parent[s];
      CHECK(lengths[s] == len_before[p] + 1);
      for (int32_t t = 0; t < len_before[p]; ++t) CHECK(tokens[s * cap + t] == before[p * cap + t]);
      const SampledToken ref = sample_token(logits.data() + p * V, V, sp, RngKey{99, 0, static_cast<uint32_t>(s), static_cast<uint32_t>(len_before[p]), 0}, scratch);
      CHECK(e.tokens[s] == ref.token);
      CHECK(tokens[s * cap + len_before[p]] == ref.token);
    }
  }
}

IRO_TEST(beam_errors) {
  const int32_t poff[] = {0, 2}, parents[] = {0, 9}, k = 2;
  CHECK_THROWS_CODE(plan_beams(BeamBatch{1, poff, parents, &k}), codes::kInvalidArgument);
  const int32_t ok_parents[] = {0, 3};
  const float logits[4 * 3] = {};
  int32_t lengths[4] = {2, 0, 0, 2};
  SamplingParams sp;
  CHECK_THROWS_CODE(expand_beams(BeamBatch{1, poff, ok_parents, &k}, BeamLogits{logits, 3, 4, nullptr}, BeamSampling{&sp, 1, 0, nullptr},
                                 BeamHistories{nullptr, lengths, 2}, 1),
                    codes::kContextOverflow);
  CHECK(lengths[1] == 0);  // nothing written on error
  sp.top_p = 0.0f;
  lengths[0] = lengths[3] = 0;
  CHECK_THROWS_CODE(expand_beams(BeamBatch{1, poff, ok_parents, &k}, BeamLogits{logits, 3, 4, nullptr}, BeamSampling{&sp, 1, 0, nullptr},
                                 BeamHistories{nullptr, lengths, 2}, 1),
                    codes::kInvalidArgument);
}
