// A stable fingerprint of a model's vocabulary, stored in value files so that a value function is
// never applied to a model whose token ids mean something else. Computable from a loaded model or
// straight from a GGUF file (no weights loaded): FNV-1a 64 over every token text followed by a 0
// byte, in id order, then the token count; printed as 16 lowercase hex digits.
#pragma once
#include <cstdint>
#include <string>

struct llama_vocab;

namespace iro {

struct VocabFingerprint {
  int32_t n_tokens = 0;
  std::string hex;  // 16 hex digits
};

VocabFingerprint vocab_fingerprint(const llama_vocab* vocab);

// Reads tokenizer.ggml.tokens from a GGUF file. Throws MODEL_NOT_FOUND / INVALID_GGUF.
VocabFingerprint vocab_fingerprint_from_gguf(const std::string& path);

}  // namespace iro
