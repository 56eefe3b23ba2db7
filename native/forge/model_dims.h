// Hyper-parameters of a forged llama-architecture model, their validation and parameter count.
#pragma once
#include <cstdint>

namespace iro::forge {

struct ModelDims {
  int32_t n_embd = 64;
  int32_t n_layer = 2;
  int32_t n_head = 4;
  int32_t n_head_kv = 4;
  int32_t n_ff = 128;
  int32_t n_ctx_train = 256;
  float rms_eps = 1e-5f;
  float rope_freq_base = 10000.0f;
};

// Throws INVALID_ARGUMENT naming the first impossible field (e.g. heads not dividing the width).
void validate_dims(const ModelDims& d);

// Parameters of the model (token embedding and untied output matrix included).
int64_t count_params(const ModelDims& d, int64_t n_vocab);

}  // namespace iro::forge
