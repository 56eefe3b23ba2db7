// Value files: GGUF with general.architecture = "iro.value", the net's tensors (F32, layouts of
// native/kernels/value_net.h) and metadata (featurizer config, dims, beta, iteration, vocabulary
// fingerprint and size, dense width, training stats, dataset size, the evaluation report).
//
// Tensors (ggml order, ne0 first): value.embedding [d, n_buckets], value.dense_proj [d, d_dense]
// (only when d_dense > 0), value.b0 [d], value.w1 [d, hidden], value.b1 [hidden],
// value.w2 [hidden], value.b2 [1].
//
// Loading trusts nothing: gguf_init_from_file (metadata only, no tensor allocation) validates the
// header, the strings and the tensor infos against the file's length; we then check every key's
// type and range, the exact tensor set, types and shapes against the declared dims (bounded by
// ValueLimits), and that every tensor's bytes lie inside the file, before allocating anything.
#pragma once
#include <string>

#include "native/value/value_model.h"

namespace iro::value {

inline constexpr const char* kValueArchitecture = "iro.value";
inline constexpr uint32_t kValueFileVersion = 1;

// Writes atomically (a temporary file in the same folder, fsync, rename). Throws IO_ERROR.
void save_value_file(const ValueModel& m, const std::string& path);

// Throws IO_ERROR (missing/unreadable), INVALID_GGUF (anything malformed).
ValueModel load_value_file(const std::string& path);

}  // namespace iro::value
