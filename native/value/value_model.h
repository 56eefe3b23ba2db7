// One trained value function: the net's parameters (native/kernels/value_net.h layout), the
// featurizer that feeds it, and what a value file records about it.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "native/common/huge_pages.h"
#include "native/kernels/value_net.h"
#include "native/value/featurizer.h"

namespace iro::value {

// Size limits enforced on every net we build or load (a loaded file cannot declare more).
struct ValueLimits {
  static constexpr int64_t kMaxBuckets = int64_t{1} << 26;
  static constexpr int64_t kMaxWidth = 1024;    // d
  static constexpr int64_t kMaxHidden = 4096;
  static constexpr int64_t kMaxDense = 65536;
  static constexpr int64_t kMaxEmbeddingFloats = int64_t{1} << 28;  // 1 GiB of float32
  static constexpr int64_t kMaxDenseFloats = int64_t{1} << 26;
};

// Throws `code` (INVALID_ARGUMENT for options, INVALID_GGUF for files) when dims are out of range.
void validate_dims(const ValueNetDims& dims, const char* code, const std::string& where);

struct TrainStats {
  uint32_t epochs = 0;       // epochs run
  uint32_t best_epoch = 0;   // epoch whose parameters were kept (0 = initial)
  float train_mse = 0.0f;
  float val_mse = 0.0f;      // NaN when there was no held-out split
  uint32_t seed = 0;
  uint32_t prefix_stride = 1;
  uint64_t rows = 0;         // dataset rows used (train + held-out)
  uint64_t states = 0;       // prefix states (train + held-out)
  uint64_t val_rows = 0;
};

struct ValueMeta {
  float beta = 1.0f;
  uint32_t iteration = 0;
  int32_t vocab_size = 0;
  std::string vocab_fingerprint;  // 16 hex digits
  TrainStats stats;
  std::string metrics_json;  // the evaluation report as JSON ("" when none)
};

// Parameter storage: the embedding table is hundreds of MB read at random rows (huge pages).
using ParamVector = std::vector<float, HugePageAllocator<float>>;

struct ValueModel {
  ValueNetDims dims;
  FeaturizerConfig featurizer;
  ValueMeta meta;
  ParamVector E, P, b0, W1, b1, w2;
  float b2 = 0.0f;

  ValueNetView view() const;
  // Allocates zeroed parameters for dims (validated).
  void allocate();
  bool all_finite() const;
};

// Random initialisation keyed by seed (deterministic); b2 starts at `bias`.
void init_parameters(ValueModel& m, uint32_t seed, float bias);

}  // namespace iro::value
