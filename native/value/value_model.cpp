#include "native/value/value_model.h"

#include <algorithm>
#include <cmath>

#include "native/common/error.h"
#include "native/common/rng.h"
#include "native/value/net_view.h"

namespace iro::value {

void validate_dims(const ValueNetDims& d, const char* code, const std::string& where) {
  auto check = [&](bool ok, const std::string& what) {
    if (!ok) fail(code, where + ": " + what);
  };
  check(d.n_buckets >= 1 && d.n_buckets <= ValueLimits::kMaxBuckets,
        "n_buckets must be between 1 and " + std::to_string(ValueLimits::kMaxBuckets) + " (got " + std::to_string(d.n_buckets) + ")");
  check(d.d >= 1 && d.d <= ValueLimits::kMaxWidth,
        "embedding width must be between 1 and " + std::to_string(ValueLimits::kMaxWidth) + " (got " + std::to_string(d.d) + ")");
  check(d.hidden >= 1 && d.hidden <= ValueLimits::kMaxHidden,
        "hidden width must be between 1 and " + std::to_string(ValueLimits::kMaxHidden) + " (got " + std::to_string(d.hidden) + ")");
  check(d.d_dense >= 0 && d.d_dense <= ValueLimits::kMaxDense,
        "dense width must be between 0 and " + std::to_string(ValueLimits::kMaxDense) + " (got " + std::to_string(d.d_dense) + ")");
  check(int64_t{d.n_buckets} * d.d <= ValueLimits::kMaxEmbeddingFloats,
        "the embedding table (n_buckets x width) exceeds " + std::to_string(ValueLimits::kMaxEmbeddingFloats) + " floats");
  check(int64_t{d.d_dense} * d.d <= ValueLimits::kMaxDenseFloats, "the dense projection (dense width x width) is too large");
}

ValueNetView ValueModel::view() const { return value_net_view(*this); }

void ValueModel::allocate() {
  validate_dims(dims, codes::kInvalidArgument, "value net");
  E.assign(static_cast<size_t>(dims.n_buckets) * dims.d, 0.0f);
  P.assign(static_cast<size_t>(dims.d_dense) * dims.d, 0.0f);
  b0.assign(dims.d, 0.0f);
  W1.assign(static_cast<size_t>(dims.hidden) * dims.d, 0.0f);
  b1.assign(dims.hidden, 0.0f);
  w2.assign(dims.hidden, 0.0f);
  b2 = 0.0f;
}

bool ValueModel::all_finite() const {
  for (const auto* t : {&E, &P, &b0, &W1, &b1, &w2}) {
    for (float x : *t) {
      if (!std::isfinite(x)) return false;
    }
  }
  return std::isfinite(b2);
}

namespace {
// Uniform in [-a, a) from lane `tensor`, element index split over (sequence, position).
void fill_uniform(ParamVector& t, float a, uint32_t seed, uint32_t tensor) {
  for (size_t i = 0; i < t.size(); ++i) {
    const RngKey k{seed, 0x56414cu /* "VAL" */, static_cast<uint32_t>(i >> 32), static_cast<uint32_t>(i), tensor};
    t[i] = (2.0f * rng_uniform(k) - 1.0f) * a;
  }
}
}  // namespace

void init_parameters(ValueModel& m, uint32_t seed, float bias) {
  m.allocate();
  const auto& d = m.dims;
  // E starts at zero: a feature never seen in training (a new prompt cross) then adds nothing
  // at inference instead of random noise. b1 > 0 keeps every hidden unit alive meanwhile.
  std::fill(m.b1.begin(), m.b1.end(), 0.1f);
  if (d.d_dense > 0) fill_uniform(m.P, 1.0f / std::sqrt(static_cast<float>(d.d_dense)), seed, 2);
  fill_uniform(m.W1, std::sqrt(6.0f / static_cast<float>(d.d)), seed, 3);
  fill_uniform(m.w2, 1.0f / std::sqrt(static_cast<float>(d.hidden)), seed, 4);
  m.b2 = bias;
}

}  // namespace iro::value
