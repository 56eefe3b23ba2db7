#include "native/value/value_forward.h"

#include <algorithm>

namespace iro::value {

RowView row_view(const ValueDataset& data, const PrefixIndex& ix, int32_t r) {
  RowView v;
  const int32_t t0 = data.response_offsets[r];
  v.n_tokens = data.response_length(r);
  v.tok_off = ix.token_offsets.data() + t0;
  v.ids = ix.ids.data();
  v.dense = data.d_dense > 0 ? data.dense.data() + static_cast<size_t>(t0) * data.d_dense : nullptr;
  v.lens = ix.state_len.data() + ix.state_offsets[r];
  v.ends = ix.state_end.data() + ix.state_offsets[r];
  v.n_states = static_cast<int32_t>(ix.row_states(r));
  return v;
}

size_t dense_param_count(const ValueNetDims& d) {
  return static_cast<size_t>(d.d) + static_cast<size_t>(d.d_dense) * d.d + static_cast<size_t>(d.hidden) * d.d +
         2 * static_cast<size_t>(d.hidden) + 1;
}

void forward_row(const ValueNetView& net, const Featurizer& f, const RowView& row, RowActivations& act) {
  const int32_t d = net.dims.d, H = net.dims.hidden, dd = net.dims.d_dense;
  const uint32_t nb = static_cast<uint32_t>(net.dims.n_buckets);
  act.a.assign(static_cast<size_t>(row.n_states) * d, 0.0f);
  act.h.assign(static_cast<size_t>(row.n_states) * H, 0.0f);
  act.v.assign(row.n_states, 0.0f);
  std::vector<float> R(d, 0.0f);
  const uint32_t end_bucket = f.end_id() % nb;
  int32_t j = 0;
  for (int32_t s = 0; s < row.n_states; ++s) {
    const int32_t n = row.lens[s];
    for (; j < n; ++j) {
      for (int64_t k = row.tok_off[j]; k < row.tok_off[j + 1]; ++k) {
        const float* e = net.E + static_cast<size_t>(row.ids[k] % nb) * d;
        for (int32_t c = 0; c < d; ++c) R[c] += e[c];
      }
    }
    float* a = act.a.data() + static_cast<size_t>(s) * d;
    const float w = f.accumulated_weight(n);
    const float* pe = net.E + static_cast<size_t>(f.position_id(n) % nb) * d;
    for (int32_t c = 0; c < d; ++c) a[c] = net.b0[c] + w * R[c] + pe[c];
    if (row.ends[s]) {
      const float* ee = net.E + static_cast<size_t>(end_bucket) * d;
      for (int32_t c = 0; c < d; ++c) a[c] += ee[c];
    }
    if (dd > 0 && row.dense && n > 0) {
      const float* x = row.dense + static_cast<size_t>(n - 1) * dd;
      for (int32_t i = 0; i < dd; ++i) {
        const float xi = x[i];
        if (xi == 0.0f) continue;
        const float* p = net.P + static_cast<size_t>(i) * d;
        for (int32_t c = 0; c < d; ++c) a[c] += xi * p[c];
      }
    }
    float* h = act.h.data() + static_cast<size_t>(s) * H;
    float v = net.b2;
    for (int32_t i = 0; i < H; ++i) {
      const float* wr = net.W1 + static_cast<size_t>(i) * d;
      float z = net.b1[i];
      for (int32_t c = 0; c < d; ++c) z += wr[c] * a[c];
      h[i] = z > 0.0f ? z : 0.0f;
      v += net.w2[i] * h[i];
    }
    act.v[s] = v;
  }
}

void backward_row(const ValueNetView& net, const Featurizer& f, const RowView& row, const RowActivations& act, const float* dv, RowGrads& g) {
  const int32_t d = net.dims.d, H = net.dims.hidden, dd = net.dims.d_dense;
  g.dense.assign(dense_param_count(net.dims), 0.0f);
  g.tok.assign(static_cast<size_t>(row.n_tokens) * d, 0.0f);
  g.state.assign(static_cast<size_t>(row.n_states) * d, 0.0f);
  float* gb0 = g.dense.data();
  float* gP = gb0 + d;
  float* gW1 = gP + static_cast<size_t>(dd) * d;
  float* gb1 = gW1 + static_cast<size_t>(H) * d;
  float* gw2 = gb1 + H;
  float* gb2 = gw2 + H;
  std::vector<float> dh(H);
  for (int32_t s = 0; s < row.n_states; ++s) {
    const float gv = dv[s];
    if (gv == 0.0f) continue;
    const float* a = act.a.data() + static_cast<size_t>(s) * d;
    const float* h = act.h.data() + static_cast<size_t>(s) * H;
    float* ga = g.state.data() + static_cast<size_t>(s) * d;
    *gb2 += gv;
    for (int32_t i = 0; i < H; ++i) {
      gw2[i] += gv * h[i];
      dh[i] = h[i] > 0.0f ? gv * net.w2[i] : 0.0f;
    }
    for (int32_t i = 0; i < H; ++i) {
      const float di = dh[i];
      if (di == 0.0f) continue;
      gb1[i] += di;
      const float* wr = net.W1 + static_cast<size_t>(i) * d;
      float* gw = gW1 + static_cast<size_t>(i) * d;
      for (int32_t c = 0; c < d; ++c) {
        gw[c] += di * a[c];
        ga[c] += di * wr[c];
      }
    }
    for (int32_t c = 0; c < d; ++c) gb0[c] += ga[c];
    const int32_t n = row.lens[s];
    if (dd > 0 && row.dense && n > 0) {
      const float* x = row.dense + static_cast<size_t>(n - 1) * dd;
      for (int32_t i = 0; i < dd; ++i) {
        const float xi = x[i];
        if (xi == 0.0f) continue;
        float* gp = gP + static_cast<size_t>(i) * d;
        for (int32_t c = 0; c < d; ++c) gp[c] += xi * ga[c];
      }
    }
  }
  // Token j's ids are in every state with length >= j, scaled by that state's weight.
  std::vector<float> run(d, 0.0f);
  int32_t s = row.n_states - 1;
  for (int32_t j = row.n_tokens; j >= 1; --j) {
    for (; s >= 0 && row.lens[s] >= j; --s) {
      const float w = f.accumulated_weight(row.lens[s]);
      const float* ga = g.state.data() + static_cast<size_t>(s) * d;
      for (int32_t c = 0; c < d; ++c) run[c] += w * ga[c];
    }
    std::copy(run.begin(), run.end(), g.tok.begin() + static_cast<size_t>(j - 1) * d);
  }
}

}  // namespace iro::value
