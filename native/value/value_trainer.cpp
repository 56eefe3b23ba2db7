#include "native/value/value_trainer.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <numeric>

#include "native/common/error.h"
#include "native/common/rng.h"
#include "native/common/threads.h"
#include "native/value/json_number.h"
#include "native/value/value_forward.h"

namespace iro::value {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// Fisher-Yates driven by the counter RNG: the order depends on (seed, stream, round) only.
void shuffle(std::vector<int32_t>& v, uint32_t seed, uint32_t stream, uint32_t round) {
  for (size_t i = v.size(); i > 1; --i) {
    const uint32_t bits = rng_bits(RngKey{seed, stream, round, static_cast<uint32_t>(i), 0x53485546u});
    std::swap(v[i - 1], v[bits % i]);
  }
}

// The dense parameters as segments in the flat order of RowGrads::dense.
struct DenseSegment {
  float* p;
  size_t n;
  bool decay;
};

std::vector<DenseSegment> dense_segments(ValueModel& m) {
  return {{m.b0.data(), m.b0.size(), false}, {m.P.data(), m.P.size(), true}, {m.W1.data(), m.W1.size(), true},
          {m.b1.data(), m.b1.size(), false}, {m.w2.data(), m.w2.size(), true}, {&m.b2, 1, false}};
}

struct RowWork {
  RowActivations act;
  RowGrads grads;
  std::vector<float> dv;
  double loss = 0;
};

}  // namespace

void TrainOptions::validate() const {
  IRO_REQUIRE_ARG(prefix_stride >= 1 && prefix_stride <= 1 << 20, "prefixStride must be an integer >= 1");
  IRO_REQUIRE_ARG(max_epochs >= 0 && max_epochs <= 100000, "maxEpochs must be an integer between 0 and 100000");
  IRO_REQUIRE_ARG(batch_rows >= 1 && batch_rows <= 1 << 20, "batchSize must be an integer >= 1");
  IRO_REQUIRE_ARG(std::isfinite(lr) && lr > 0, "learningRate must be > 0");
  IRO_REQUIRE_ARG(std::isfinite(weight_decay) && weight_decay >= 0, "weightDecay must be >= 0");
  IRO_REQUIRE_ARG(beta1 >= 0 && beta1 < 1 && beta2 >= 0 && beta2 < 1, "Adam betas must be in [0, 1)");
  IRO_REQUIRE_ARG(std::isfinite(eps) && eps > 0, "Adam epsilon must be > 0");
  IRO_REQUIRE_ARG(validation_fraction >= 0 && validation_fraction < 1, "validationFraction must be in [0, 1)");
  IRO_REQUIRE_ARG(patience >= 1, "patience must be an integer >= 1");
  IRO_REQUIRE_ARG(threads >= 1 && threads <= 1024, "threads must be between 1 and 1024");
  IRO_REQUIRE_ARG(std::isfinite(beta) && beta > 0, "beta must be a positive number");
  featurizer.validate();
}

TrainResult train_value(const ValueDataset& data, const TrainOptions& opt, const ProgressFn& progress,
                        const std::atomic<bool>* cancel) {
  opt.validate();
  data.validate(opt.vocab_size);
  const auto t_start = std::chrono::steady_clock::now();
  auto check_cancel = [&] {
    if (cancel && cancel->load(std::memory_order_relaxed)) fail(codes::kAborted, "value training was aborted");
  };

  // ---- model: fresh or warm-started ----------------------------------------------------------
  TrainResult res;
  ValueModel& m = res.model;
  if (opt.init_model) {
    const ValueModel& init = *opt.init_model;
    if (init.meta.vocab_fingerprint != opt.vocab_fingerprint || init.meta.vocab_size != opt.vocab_size) {
      fail(codes::kVocabMismatch, "cannot warm-start from a value function made for another vocabulary (" +
                                      init.meta.vocab_fingerprint + ", " + std::to_string(init.meta.vocab_size) +
                                      " tokens) than this one (" + opt.vocab_fingerprint + ", " +
                                      std::to_string(opt.vocab_size) + " tokens)");
    }
    IRO_REQUIRE_ARG(init.dims.d_dense == data.d_dense,
                "the warm-start value function uses " + std::to_string(init.dims.d_dense) +
                    " dense features per state but the dataset has " + std::to_string(data.d_dense));
    m = init;
  } else {
    IRO_REQUIRE_ARG(opt.dims.d_dense == data.d_dense, "denseWidth must match the dataset's dense rows");
    m.dims = opt.dims;
    m.featurizer = opt.featurizer;
  }
  validate_dims(m.dims, codes::kInvalidArgument, "value net");
  const Featurizer f(m.featurizer);
  const int threads = opt.threads;
  const PrefixIndex ix = build_prefix_index(data, f, opt.prefix_stride, threads);
  check_cancel();

  // ---- held-out split by row ---------------------------------------------------------------
  const int32_t n_rows = data.rows();
  std::vector<int32_t> order(n_rows);
  std::iota(order.begin(), order.end(), 0);
  shuffle(order, opt.seed, 1, 0);
  int32_t n_val = 0;
  if (opt.validation_fraction > 0 && n_rows >= 2) {
    n_val = std::clamp(static_cast<int32_t>(std::ceil(opt.validation_fraction * n_rows)), 1, n_rows - 1);
  }
  std::vector<int32_t> val_rows(order.begin(), order.begin() + n_val), train_rows(order.begin() + n_val, order.end());
  std::sort(val_rows.begin(), val_rows.end());
  std::sort(train_rows.begin(), train_rows.end());
  auto count_states = [&](const std::vector<int32_t>& rows) {
    int64_t c = 0;
    for (int32_t r : rows) c += ix.row_states(r);
    return c;
  };
  const int64_t train_states = count_states(train_rows), val_states = count_states(val_rows);
  // A row's weight in the loss: its weight on each of its prefix states.
  auto row_weight = [&](int32_t r) { return data.weights[r] * static_cast<double>(ix.row_states(r)); };

  if (!opt.init_model) {
    double ws = 0, wy = 0;
    for (int32_t r : train_rows) {
      const double w = row_weight(r);
      ws += w;
      wy += w * data.rewards[r];
    }
    init_parameters(m, opt.seed, ws > 0 ? static_cast<float>(wy / ws) : 0.0f);
  }

  // ---- optimiser state -------------------------------------------------------------------------
  const int32_t d = m.dims.d;
  const uint32_t nb = static_cast<uint32_t>(m.dims.n_buckets);
  const size_t n_dense = dense_param_count(m.dims);
  ParamVector mE(m.E.size(), 0.0f), vE(m.E.size(), 0.0f);  // as large as E, read at the same rows
  std::vector<int32_t> stepE(nb, 0);  // per-row Adam step: bias correction on the row's own timeline
  std::vector<float> mD(n_dense, 0.0f), vD(n_dense, 0.0f), gD(n_dense, 0.0f);
  std::vector<int32_t> slot_of(nb, -1);
  std::vector<uint32_t> touched;
  std::vector<float> gS;
  std::vector<RowWork> work(std::min<size_t>(opt.batch_rows, std::max<size_t>(1, train_rows.size())));
  const uint32_t end_bucket = f.end_id() % nb;
  int64_t step = 0;

  auto val_mse = [&] { return val_rows.empty() ? kNaN : weighted_mse(m, data, ix, val_rows, threads); };
  std::vector<EpochRecord> history;
  double best = val_mse();
  int32_t best_epoch = 0;
  ValueModel best_model;
  if (!val_rows.empty()) best_model = m;
  history.push_back({0, kNaN, best});
  std::string stop_reason = "max_epochs";
  int64_t states_trained = 0;
  double train_seconds = 0;

  std::vector<int32_t> epoch_rows;
  int32_t epoch = 0;
  for (epoch = 1; epoch <= opt.max_epochs; ++epoch) {
    const auto t_epoch = std::chrono::steady_clock::now();
    epoch_rows = train_rows;
    shuffle(epoch_rows, opt.seed, 2, static_cast<uint32_t>(epoch));
    double loss_sum = 0, weight_sum = 0;
    for (size_t pos = 0; pos < epoch_rows.size(); pos += opt.batch_rows) {
      check_cancel();
      const size_t B = std::min<size_t>(opt.batch_rows, epoch_rows.size() - pos);
      const int32_t* rows = epoch_rows.data() + pos;
      double W = 0;
      for (size_t i = 0; i < B; ++i) W += row_weight(rows[i]);
      if (!(W > 0)) continue;
      const ValueNetView net = m.view();
      parallel_for(B, threads, 1, [&](size_t b, size_t e) {
        for (size_t i = b; i < e; ++i) {
          const int32_t r = rows[i];
          const RowView rv = row_view(data, ix, r);
          RowWork& w = work[i];
          forward_row(net, f, rv, w.act);
          w.dv.resize(rv.n_states);
          const double wr = data.weights[r], y = data.rewards[r];
          w.loss = 0;
          for (int32_t s = 0; s < rv.n_states; ++s) {
            const double err = w.act.v[s] - y;
            w.loss += wr * err * err;
            w.dv[s] = static_cast<float>(2.0 * wr * err / W);
          }
          backward_row(net, f, rv, w.act, w.dv.data(), w.grads);
        }
      });
      for (size_t i = 0; i < B; ++i) loss_sum += work[i].loss;
      weight_sum += W;
      ++step;
      const float bc1 = 1.0f - std::pow(opt.beta1, static_cast<float>(step));
      const float bc2 = 1.0f - std::pow(opt.beta2, static_cast<float>(step));
      auto adamw_bc = [&](float& p, float& mm, float& vv, float g, bool decay, float c1, float c2) {
        mm = opt.beta1 * mm + (1.0f - opt.beta1) * g;
        vv = opt.beta2 * vv + (1.0f - opt.beta2) * g * g;
        const float upd = (mm / c1) / (std::sqrt(vv / c2) + opt.eps);
        p -= opt.lr * (upd + (decay ? opt.weight_decay * p : 0.0f));
      };
      auto adamw = [&](float& p, float& mm, float& vv, float g, bool decay) { adamw_bc(p, mm, vv, g, decay, bc1, bc2); };

      // Dense parameters: each index summed over rows in batch order.
      parallel_for(n_dense, threads, 4096, [&](size_t b, size_t e) {
        for (size_t k = b; k < e; ++k) {
          float s = 0.0f;
          for (size_t i = 0; i < B; ++i) s += work[i].grads.dense[k];
          gD[k] = s;
        }
      });
      {
        size_t k = 0;
        for (const DenseSegment& seg : dense_segments(m)) {
          for (size_t i = 0; i < seg.n; ++i, ++k) adamw(seg.p[i], mD[k], vD[k], gD[k], seg.decay);
        }
      }

      // Embedding rows: slots in first-touch order, each slot summed over rows in batch order.
      touched.clear();
      auto touch = [&](uint32_t bucket) {
        if (slot_of[bucket] < 0) {
          slot_of[bucket] = static_cast<int32_t>(touched.size());
          touched.push_back(bucket);
        }
      };
      for (size_t i = 0; i < B; ++i) {
        const RowView rv = row_view(data, ix, rows[i]);
        for (int64_t k = rv.tok_off[0]; k < rv.tok_off[rv.n_tokens]; ++k) touch(rv.ids[k] % nb);
        for (int32_t s = 0; s < rv.n_states; ++s) {
          touch(f.position_id(rv.lens[s]) % nb);
          if (rv.ends[s]) touch(end_bucket);
        }
      }
      gS.assign(touched.size() * d, 0.0f);
      parallel_for(touched.size(), threads, 256, [&](size_t sb, size_t se) {
        auto add = [&](uint32_t bucket, const float* g) {
          const size_t slot = static_cast<size_t>(slot_of[bucket]);
          if (slot < sb || slot >= se) return;
          float* dst = gS.data() + slot * d;
          for (int32_t c = 0; c < d; ++c) dst[c] += g[c];
        };
        for (size_t i = 0; i < B; ++i) {
          const RowView rv = row_view(data, ix, rows[i]);
          const RowGrads& g = work[i].grads;
          for (int32_t t = 0; t < rv.n_tokens; ++t) {
            const float* gt = g.tok.data() + static_cast<size_t>(t) * d;
            for (int64_t k = rv.tok_off[t]; k < rv.tok_off[t + 1]; ++k) add(rv.ids[k] % nb, gt);
          }
          for (int32_t s = 0; s < rv.n_states; ++s) {
            const float* gs = g.state.data() + static_cast<size_t>(s) * d;
            add(f.position_id(rv.lens[s]) % nb, gs);
            if (rv.ends[s]) add(end_bucket, gs);
          }
        }
      });
      parallel_for(touched.size(), threads, 256, [&](size_t sb, size_t se) {
        for (size_t slot = sb; slot < se; ++slot) {
          const size_t base = static_cast<size_t>(touched[slot]) * d;
          const float* g = gS.data() + slot * d;
          const int32_t t = ++stepE[touched[slot]];
          const float c1 = 1.0f - std::pow(opt.beta1, static_cast<float>(t)), c2 = 1.0f - std::pow(opt.beta2, static_cast<float>(t));
          for (int32_t c = 0; c < d; ++c) adamw_bc(m.E[base + c], mE[base + c], vE[base + c], g[c], true, c1, c2);
        }
      });
      for (uint32_t b : touched) slot_of[b] = -1;
    }
    const double train_mse = weight_sum > 0 ? loss_sum / weight_sum : kNaN;
    states_trained += train_states;
    train_seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - t_epoch).count();
    check_cancel();
    const double v = val_mse();
    history.push_back({epoch, train_mse, v});
    if (!val_rows.empty() && v < best) {
      best = v;
      best_epoch = epoch;
      best_model = m;
    }
    if (progress) {
      progress(EpochProgress{epoch, opt.max_epochs, val_rows.empty() ? epoch : best_epoch, train_mse, v,
                             train_seconds > 0 ? static_cast<double>(states_trained) / train_seconds : 0.0});
    }
    if (!val_rows.empty() && epoch - best_epoch >= opt.patience) {
      stop_reason = "early_stopping";
      ++epoch;
      break;
    }
  }
  const int32_t epochs_run = epoch - 1;
  if (!val_rows.empty()) {
    m = std::move(best_model);
  } else {
    best_epoch = epochs_run;
  }

  // ---- evaluation and metadata -------------------------------------------------------------
  const bool heldout = !val_rows.empty();
  const EvalReport eval = evaluate(m, data, ix, heldout ? val_rows : train_rows, threads);
  double final_train_mse = history.back().train_mse;
  for (const auto& h : history) {
    if (h.epoch == best_epoch) final_train_mse = h.train_mse;
  }
  TrainStats& st = m.meta.stats;
  st.epochs = static_cast<uint32_t>(epochs_run);
  st.best_epoch = static_cast<uint32_t>(best_epoch);
  st.train_mse = static_cast<float>(final_train_mse);
  st.val_mse = static_cast<float>(heldout ? eval.mse : kNaN);
  st.seed = opt.seed;
  st.prefix_stride = static_cast<uint32_t>(opt.prefix_stride);
  st.rows = static_cast<uint64_t>(n_rows);
  st.states = static_cast<uint64_t>(ix.states());
  st.val_rows = static_cast<uint64_t>(val_rows.size());
  m.meta.beta = opt.beta;
  m.meta.iteration = opt.iteration;
  m.meta.vocab_size = opt.vocab_size;
  m.meta.vocab_fingerprint = opt.vocab_fingerprint;

  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t_start).count();
  // The file keeps a deterministic report (no wall-clock figures), so that the same seed gives a
  // byte-identical value file; the returned report adds the timings.
  auto build = [&](bool with_timing) {
    std::string j = "{\"epochs\":" + std::to_string(epochs_run) + ",\"bestEpoch\":" + std::to_string(best_epoch) + ",\"stopReason\":\"" +
        stop_reason + "\",\"warmStart\":" + (opt.init_model ? "true" : "false") + ",\"trainRows\":" +
        std::to_string(train_rows.size()) + ",\"heldOutRows\":" + std::to_string(val_rows.size()) + ",\"trainStates\":" +
        std::to_string(train_states) + ",\"heldOutStates\":" + std::to_string(val_states);
    if (with_timing) {
      j += ",\"seconds\":";
      put_json_number(j, seconds);
      j += ",\"statesPerSecond\":";
      put_json_number(j, train_seconds > 0 ? static_cast<double>(states_trained) / train_seconds : kNaN);
    }
    j += ",\"history\":[";
    for (size_t i = 0; i < history.size(); ++i) {
      j += (i ? ",{\"epoch\":" : "{\"epoch\":") + std::to_string(history[i].epoch) + ",\"trainMse\":";
      put_json_number(j, history[i].train_mse);
      j += ",\"heldOutMse\":";
      put_json_number(j, history[i].val_mse);
      j += "}";
    }
    j += std::string("],\"evaluatedOn\":\"") + (heldout ? "heldout" : "train") + "\",\"evaluation\":" + eval.to_json() + "}";
    return j;
  };
  res.report_json = build(true);
  m.meta.metrics_json = build(false);
  return res;
}

}  // namespace iro::value
