// The value-function net (DESIGN.md §5) as flat parameter buffers: the shared contract between
// value training (native/value) and the value-scoring kernel (native/kernels, cuda/).
//
// For one prefix state with hashed sparse features {(id_j, w_j)} (w_j = 1 when weights are absent)
// and an optional dense row x (length d_dense):
//   a   = b0 + sum_j w_j * E[id_j mod n_buckets]  + (d_dense > 0 ? P^T x : 0)    [d]
//   h   = relu(W1 a + b1)                                                         [hidden]
//   V   = w2 . h + b2                                                             scalar
// Layouts (row-major, float32): E [n_buckets x d], P [d_dense x d], W1 [hidden x d], w2 [hidden].
#pragma once
#include <cstdint>

namespace iro {

struct ValueNetDims {
  int32_t n_buckets = 1 << 20;
  int32_t d = 64;        // embedding width
  int32_t hidden = 64;   // MLP width
  int32_t d_dense = 0;   // 0 = no dense features
};

// Non-owning view of one net's parameters.
struct ValueNetView {
  ValueNetDims dims;
  const float* E = nullptr;   // [n_buckets * d]
  const float* P = nullptr;   // [d_dense * d] or null when d_dense == 0
  const float* b0 = nullptr;  // [d]
  const float* W1 = nullptr;  // [hidden * d]
  const float* b1 = nullptr;  // [hidden]
  const float* w2 = nullptr;  // [hidden]
  float b2 = 0.0f;
};

}  // namespace iro
