// Loading a GGUF model with llama.cpp for the forge (inspection, tokenizer checks, sampling and
// training), with RAII owners for llama.cpp handles.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "llama.h"
#include "native/common/unique_handle.h"

namespace iro::forge {

using LlamaModelPtr = UniqueHandle<llama_model, llama_model_free>;
using LlamaContextPtr = UniqueHandle<llama_context, llama_free>;

// CPU only. `writable` loads the weights into plain memory (no mmap) so training can update them.
// Throws MODEL_NOT_FOUND / INVALID_GGUF.
LlamaModelPtr load_model(const std::string& path, bool vocab_only, bool writable = false);

struct ModelSummary {
  int32_t n_vocab = 0;
  int64_t n_params = 0;
  int32_t n_embd = 0, n_layer = 0, n_head = 0, n_head_kv = 0, n_ctx_train = 0;
  int32_t bos = -1, eos = -1;
  bool add_bos = false;
  std::string description;
  std::string vocab_type;  // "spm", "bpe", ...
  int64_t size_bytes = 0;
};

ModelSummary inspect_model(const std::string& path);

// Tokenize with llama.cpp's own tokenizer (vocabulary only; no weights loaded).
std::vector<std::vector<int32_t>> tokenize_texts(const std::string& path, const std::vector<std::string>& texts,
                                                 bool add_special);
// Detokenize with llama_detokenize (remove_special: drop a leading BOS / trailing EOS).
std::vector<std::string> detokenize_lists(const std::string& path, const std::vector<std::vector<int32_t>>& tokens,
                                          bool remove_special);

// Token text pieces as llama_token_to_piece renders them (for inspection and tests).
std::string token_piece(const llama_vocab* vocab, int32_t token);
std::vector<int32_t> tokenize(const llama_vocab* vocab, const std::string& text, bool add_special);
std::string detokenize(const llama_vocab* vocab, const std::vector<int32_t>& tokens, bool remove_special);

}  // namespace iro::forge
