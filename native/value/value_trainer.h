// Training of a value function (DESIGN.md §5): every prefix state of every row regresses onto the
// row's final reward (weighted MSE), AdamW with lazy sparse updates of the embedding rows a batch
// touched, deterministic shuffling by seed, a held-out split of rows with early stopping, and an
// optional warm start. Multi-threaded over the rows of a batch; the result does not depend on the
// thread count: per-row gradients are reduced in row order (dense parameters by index, embedding
// rows by slot), each element by exactly one thread.
#pragma once
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "native/value/value_dataset.h"
#include "native/value/value_eval.h"
#include "native/value/value_model.h"

namespace iro::value {

struct TrainOptions {
  ValueNetDims dims;              // d_dense must equal the dataset's; ignored on warm start
  FeaturizerConfig featurizer;    // ignored on warm start
  int32_t prefix_stride = 1;      // a state every `stride` tokens, plus the full response
  int32_t max_epochs = 20;
  int32_t batch_rows = 32;        // rows (responses) per optimiser step
  float lr = 1e-3f, weight_decay = 1e-4f, beta1 = 0.9f, beta2 = 0.999f, eps = 1e-8f;
  float validation_fraction = 0.1f;
  int32_t patience = 3;           // epochs without held-out improvement before stopping
  uint32_t seed = 0;
  int threads = 1;
  float beta = 1.0f;              // stored in the file
  uint32_t iteration = 0;         // stored in the file
  int32_t vocab_size = 0;
  std::string vocab_fingerprint;
  std::shared_ptr<const ValueModel> init_model;  // warm start (same vocabulary)
  void validate() const;
};

struct EpochProgress {
  int32_t epoch = 0, max_epochs = 0, best_epoch = 0;
  double train_mse = 0, val_mse = 0, states_per_second = 0;
};

struct EpochRecord {
  int32_t epoch = 0;
  double train_mse = 0, val_mse = 0;
};

struct TrainResult {
  ValueModel model;
  std::string report_json;  // history, split sizes, stop reason, throughput, evaluation
};

using ProgressFn = std::function<void(const EpochProgress&)>;

// Throws INVALID_ARGUMENT, VOCAB_MISMATCH (warm start from another vocabulary), ABORTED.
TrainResult train_value(const ValueDataset& data, const TrainOptions& options, const ProgressFn& progress,
                        const std::atomic<bool>* cancel);

}  // namespace iro::value
