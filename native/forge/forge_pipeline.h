// The whole forge: corpus -> learned vocabulary -> random-init llama GGUF -> training with
// llama.cpp -> saved model (atomically at the output path).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "native/forge/model_dims.h"
#include "native/forge/piece_learner.h"
#include "native/forge/trainer.h"

namespace iro::forge {

struct ForgeSpec {
  std::vector<std::string> documents;  // each becomes BOS + text + EOS
  PieceLearnerOptions vocab;
  ModelDims dims;
  TrainOptions train;
  float val_fraction = 0.05f;  // documents held out (after a seeded shuffle)
  uint64_t seed = 0;           // weight init and document split
  float init_std = 0.02f;
  float embd_std = 1.0f;
  std::string name = "iro-forge";
  std::string out_path;
};

struct ForgeReport {
  int32_t n_vocab = 0, n_merges = 0, n_chars = 0;
  int64_t n_params = 0;
  int64_t corpus_tokens = 0, train_tokens = 0, val_tokens = 0;
  int64_t train_documents = 0, val_documents = 0;
  TrainResult train;
  double seconds_vocab = 0.0, seconds_total = 0.0;
  int64_t file_bytes = 0;
};

// Validates everything that can be checked without work (corpus, dims, options, output path).
void validate_forge_spec(const ForgeSpec& spec);

ForgeReport run_forge(const ForgeSpec& spec, const ProgressFn& on_progress, const AbortFn& should_abort);

}  // namespace iro::forge
