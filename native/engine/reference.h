// Test-only reference paths that drive llama.cpp the plain way (a fresh single-sequence context and
// llama.cpp's own greedy sampler), to check the engine against.
#pragma once
#include <cstdint>
#include <vector>

#include "native/engine/model.h"

namespace iro::engine {

// Greedy continuation of `prompt` with llama_sampler_init_greedy (stops at end-of-generation).
std::vector<int32_t> reference_greedy(const Model& model, const std::vector<int32_t>& prompt, int32_t max_tokens, int32_t threads);

// Logits after evaluating all of `tokens` in one batch in a fresh context (re-evaluation).
std::vector<float> reference_logits(const Model& model, const std::vector<int32_t>& tokens, int32_t threads);

}  // namespace iro::engine
