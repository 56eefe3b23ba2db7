// Trains a loaded llama model in place with llama.cpp's own training API (llama_opt_init /
// llama_opt_epoch, AdamW). Data points are windows of exactly the context that llama.cpp
// allocates (it pads n_ctx up to a multiple of 256); labels are the next tokens.
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "llama.h"

namespace iro::forge {

struct TrainOptions {
  int32_t epochs = 1;
  int32_t n_ctx = 256;          // requested context; the actual one is what llama.cpp allocates
  float lr = 1e-3f;             // peak AdamW learning rate (linear warm-up, cosine decay to lr_min)
  float lr_min = 1e-4f;
  float weight_decay = 0.0f;
  float beta1 = 0.9f, beta2 = 0.999f;
  int32_t threads = 1;
  uint64_t seed = 0;            // window order per epoch
  int32_t windows_per_chunk = 4;  // progress / abort granularity
  int64_t max_steps = 0;        // > 0: stop after this many optimizer steps (tests)
};

// Throws INVALID_ARGUMENT naming the bad field.
void validate_train_options(const TrainOptions& o);

struct TrainProgress {
  const char* phase = "train";  // "train" | "eval"
  int32_t epoch = 0;            // 1-based
  int32_t epochs = 0;
  int64_t step = 0;             // optimizer steps done in this epoch
  int64_t steps = 0;            // optimizer steps per epoch
  double loss = 0.0;            // running mean loss of this epoch (nats per token)
  double seconds = 0.0;         // since training started
  double tokens_per_second = 0.0;
};

struct EpochStats {
  int32_t epoch = 0;
  double train_loss = 0.0, val_loss = 0.0;
  double train_accuracy = 0.0, val_accuracy = 0.0;
  double seconds = 0.0;
};

struct TrainResult {
  int32_t n_ctx = 0;  // context actually used for every window
  int64_t train_windows = 0, val_windows = 0;
  int64_t steps = 0;
  double initial_val_loss = 0.0;  // before the first step (NaN without held-out data)
  std::vector<EpochStats> epochs;
  double seconds = 0.0;
  double tokens_per_second = 0.0;  // training tokens (forward + backward) per second
};

using ProgressFn = std::function<void(const TrainProgress&)>;
using AbortFn = std::function<bool()>;

// `model` must be loaded writable (load_model(..., writable=true)). Each stream is a
// concatenation of documents (BOS ... EOS). Throws ABORTED when should_abort() turns true
// (checked between chunks of windows), INVALID_ARGUMENT when a stream is shorter than one window.
TrainResult train_model(llama_model* model, const std::vector<int32_t>& train_stream, const std::vector<int32_t>& val_stream,
                        const TrainOptions& options, const ProgressFn& on_progress, const AbortFn& should_abort);

}  // namespace iro::forge
