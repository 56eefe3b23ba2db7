#include "native/value/value_eval.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <limits>
#include <numeric>

#include "native/common/threads.h"
#include "native/value/json_number.h"
#include "native/value/value_forward.h"

namespace iro::value {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

std::vector<double> ranks(const std::vector<double>& x) {
  std::vector<size_t> idx(x.size());
  std::iota(idx.begin(), idx.end(), 0);
  std::stable_sort(idx.begin(), idx.end(), [&](size_t a, size_t b) { return x[a] < x[b]; });
  std::vector<double> r(x.size());
  for (size_t i = 0; i < idx.size();) {
    size_t j = i;
    while (j + 1 < idx.size() && x[idx[j + 1]] == x[idx[i]]) ++j;
    const double avg = 0.5 * static_cast<double>(i + j) + 1.0;  // ties share their mean rank
    for (size_t k = i; k <= j; ++k) r[idx[k]] = avg;
    i = j + 1;
  }
  return r;
}

// Runs the net over n rows, row i's states given by view(i), and hands each row's values to
// take(i, values). Multi-threaded over rows.
template <class ViewFn, class TakeFn>
void forward_rows(const ValueModel& m, size_t n, int threads, const ViewFn& view, const TakeFn& take) {
  const Featurizer f(m.featurizer);
  const ValueNetView net = m.view();
  parallel_for(n, threads, 16, [&](size_t b, size_t e) {
    RowActivations act;
    for (size_t i = b; i < e; ++i) {
      forward_row(net, f, view(i), act);
      take(i, act.v);
    }
  });
}

// Weighted MSE of predict_states() output against each row's reward.
double weighted_mse_of(const std::vector<float>& pred, const ValueDataset& data, const PrefixIndex& ix,
                       const std::vector<int32_t>& rows) {
  double num = 0, den = 0;
  size_t k = 0;
  for (int32_t r : rows) {
    const double w = data.weights[r], y = data.rewards[r];
    for (int64_t s = 0; s < ix.row_states(r); ++s, ++k) {
      const double e = pred[k] - y;
      num += w * e * e;
      den += w;
    }
  }
  return den > 0 ? num / den : kNaN;
}

}  // namespace

double spearman(const std::vector<double>& x, const std::vector<double>& y) {
  const size_t n = x.size();
  if (n < 2) return kNaN;
  for (size_t i = 0; i < n; ++i) {
    if (!std::isfinite(x[i]) || !std::isfinite(y[i])) return kNaN;
  }
  const auto rx = ranks(x), ry = ranks(y);
  const double mx = std::accumulate(rx.begin(), rx.end(), 0.0) / n, my = std::accumulate(ry.begin(), ry.end(), 0.0) / n;
  double sxy = 0, sxx = 0, syy = 0;
  for (size_t i = 0; i < n; ++i) {
    sxy += (rx[i] - mx) * (ry[i] - my);
    sxx += (rx[i] - mx) * (rx[i] - mx);
    syy += (ry[i] - my) * (ry[i] - my);
  }
  if (sxx == 0 || syy == 0) return kNaN;  // a constant side has no ranking
  return sxy / std::sqrt(sxx * syy);
}

std::vector<float> predict_states(const ValueModel& m, const ValueDataset& data, const PrefixIndex& ix,
                                  const std::vector<int32_t>& rows, int threads) {
  std::vector<int64_t> out_off(rows.size() + 1, 0);
  for (size_t i = 0; i < rows.size(); ++i) out_off[i + 1] = out_off[i] + ix.row_states(rows[i]);
  std::vector<float> out(static_cast<size_t>(out_off.back()));
  forward_rows(
      m, rows.size(), threads, [&](size_t i) { return row_view(data, ix, rows[i]); },
      [&](size_t i, const std::vector<float>& v) { std::copy(v.begin(), v.end(), out.begin() + out_off[i]); });
  return out;
}

double weighted_mse(const ValueModel& m, const ValueDataset& data, const PrefixIndex& ix, const std::vector<int32_t>& rows,
                    int threads) {
  return weighted_mse_of(predict_states(m, data, ix, rows, threads), data, ix, rows);
}

EvalReport evaluate(const ValueModel& m, const ValueDataset& data, const PrefixIndex& ix, const std::vector<int32_t>& rows,
                    int threads) {
  EvalReport rep;
  rep.rows = rows.size();
  const auto pred = predict_states(m, data, ix, rows, threads);
  rep.states = pred.size();
  rep.mse = weighted_mse_of(pred, data, ix, rows);
  std::vector<double> y_all;
  y_all.reserve(pred.size());
  for (int32_t r : rows) y_all.insert(y_all.end(), static_cast<size_t>(ix.row_states(r)), data.rewards[r]);

  // Values at fixed fractions of each response: one forward per row over the 4 prefix lengths.
  std::vector<std::array<int32_t, 4>> lens(rows.size());
  std::vector<std::array<uint8_t, 4>> ends(rows.size());
  for (size_t i = 0; i < rows.size(); ++i) {
    const int32_t L = data.response_length(rows[i]);
    for (int q = 0; q < 4; ++q) {
      lens[i][q] = std::min(L, static_cast<int32_t>(std::ceil(kEvalFractions[q] * static_cast<float>(L))));
      if (L > 0) lens[i][q] = std::max(1, lens[i][q]);
      ends[i][q] = (lens[i][q] == L && data.ended[rows[i]]) ? 1 : 0;
    }
  }
  std::vector<std::array<float, 4>> at(rows.size());
  forward_rows(
      m, rows.size(), threads,
      [&](size_t i) {
        RowView v = row_view(data, ix, rows[i]);
        v.lens = lens[i].data();
        v.ends = ends[i].data();
        v.n_states = 4;
        return v;
      },
      [&](size_t i, const std::vector<float>& v) { std::copy(v.begin(), v.end(), at[i].begin()); });
  std::vector<double> y(rows.size());
  for (size_t i = 0; i < rows.size(); ++i) y[i] = data.rewards[rows[i]];
  for (int q = 0; q < 4; ++q) {
    std::vector<double> p(rows.size());
    double se = 0;
    for (size_t i = 0; i < rows.size(); ++i) {
      p[i] = at[i][q];
      se += (p[i] - y[i]) * (p[i] - y[i]);
    }
    rep.spearman[q] = spearman(p, y);
    rep.mse_at[q] = rows.empty() ? kNaN : se / static_cast<double>(rows.size());
  }

  // Calibration: states sorted by prediction, 10 bins of (nearly) equal count.
  std::vector<size_t> idx(pred.size());
  std::iota(idx.begin(), idx.end(), 0);
  std::stable_sort(idx.begin(), idx.end(), [&](size_t a, size_t b) { return pred[a] < pred[b]; });
  const size_t bins = std::min<size_t>(10, idx.size());
  for (size_t b = 0; b < bins; ++b) {
    const size_t lo = b * idx.size() / bins, hi = (b + 1) * idx.size() / bins;
    CalibrationBin bin;
    for (size_t i = lo; i < hi; ++i) {
      bin.mean_predicted += pred[idx[i]];
      bin.mean_target += y_all[idx[i]];
    }
    bin.count = hi - lo;
    if (bin.count > 0) {
      bin.mean_predicted /= static_cast<double>(bin.count);
      bin.mean_target /= static_cast<double>(bin.count);
    }
    rep.calibration.push_back(bin);
  }
  return rep;
}

std::string EvalReport::to_json() const {
  // {"0.25":x,"0.5":x,"0.75":x,"1":x}
  auto put_by_fraction = [](std::string& s, const double (&v)[4]) {
    s += "{";
    for (int q = 0; q < 4; ++q) {
      char key[16];
      std::snprintf(key, sizeof key, "\"%g\":", static_cast<double>(kEvalFractions[q]));
      s += (q ? "," : "");
      s += key;
      put_json_number(s, v[q]);
    }
    s += "}";
  };
  std::string s = "{\"rows\":" + std::to_string(rows) + ",\"states\":" + std::to_string(states) + ",\"mse\":";
  put_json_number(s, mse);
  s += ",\"spearman\":";
  put_by_fraction(s, spearman);
  s += ",\"mseAtFraction\":";
  put_by_fraction(s, mse_at);
  s += ",\"calibration\":[";
  for (size_t b = 0; b < calibration.size(); ++b) {
    s += (b ? ",{" : "{");
    s += "\"meanPredicted\":";
    put_json_number(s, calibration[b].mean_predicted);
    s += ",\"meanTarget\":";
    put_json_number(s, calibration[b].mean_target);
    s += ",\"count\":" + std::to_string(calibration[b].count) + "}";
  }
  s += "]}";
  return s;
}

}  // namespace iro::value
