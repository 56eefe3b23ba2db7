// Writes a llama-architecture GGUF from scratch with the gguf API: metadata (hyper-parameters and
// a SentencePiece-style vocabulary) and seeded random f32 tensors under llama.cpp's tensor names.
#pragma once
#include <cstdint>
#include <string>

#include "native/forge/model_dims.h"
#include "native/forge/spm_vocab.h"

namespace iro::forge {

struct WrittenModel {
  int32_t n_vocab = 0;
  int64_t n_params = 0;
  int64_t file_bytes = 0;
};

// Initialisation: matrices ~ N(0, init_std^2) (the output projections of each block scaled down by
// sqrt(2 * n_layer)), RMS-norm weights = 1, token embeddings ~ N(0, embd_std^2). llama.cpp's
// training API does not train token_embd (it is left out of the trainable set), so the
// embeddings stay as initialised: a unit-scale random code keeps each token distinct in the
// residual stream.
// Draws are keyed by (seed, tensor index, element index): the file depends only on the inputs.
// Validates everything first; writes atomically (temp file + rename).
WrittenModel write_random_llama(const std::string& path, const ModelDims& dims, const SpmVocab& vocab, uint64_t seed,
                                const std::string& name = "iro-forge", float init_std = 0.02f,
                                float embd_std = 1.0f);

}  // namespace iro::forge
