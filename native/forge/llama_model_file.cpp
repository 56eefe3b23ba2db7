#include "native/forge/llama_model_file.h"

#include <sys/stat.h>

#include "native/common/error.h"
#include "native/llama/backend.h"

namespace iro::forge {

LlamaModelPtr load_model(const std::string& path, bool vocab_only, bool writable) {
  ensure_backends_loaded();
  struct stat st {};
  if (stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) fail(codes::kModelNotFound, "model file not found: " + path);
  llama_model_params mp = llama_model_default_params();
  mp.n_gpu_layers = 0;
  mp.vocab_only = vocab_only;
  if (writable) mp.load_mode = LLAMA_LOAD_MODE_NONE;
  // The forge works on the CPU only: an empty device list keeps every tensor in host memory.
  ggml_backend_dev_t no_devices[1] = {nullptr};
  mp.devices = no_devices;
  llama_model* m = llama_model_load_from_file(path.c_str(), mp);
  if (!m) fail(codes::kInvalidGguf, "llama.cpp could not load " + path + " (not a valid llama GGUF model; set IRO_LLAMA_LOG=1 for details)");
  return LlamaModelPtr(m);
}

ModelSummary inspect_model(const std::string& path) {
  LlamaModelPtr m = load_model(path, false);
  const llama_vocab* v = llama_model_get_vocab(m.get());
  ModelSummary s;
  s.n_vocab = llama_vocab_n_tokens(v);
  s.n_params = static_cast<int64_t>(llama_model_n_params(m.get()));
  s.n_embd = llama_model_n_embd(m.get());
  s.n_layer = llama_model_n_layer(m.get());
  s.n_head = llama_model_n_head(m.get());
  s.n_head_kv = llama_model_n_head_kv(m.get());
  s.n_ctx_train = llama_model_n_ctx_train(m.get());
  s.bos = llama_vocab_bos(v);
  s.eos = llama_vocab_eos(v);
  s.add_bos = llama_vocab_get_add_bos(v);
  char desc[256];
  llama_model_desc(m.get(), desc, sizeof desc);
  s.description = desc;
  switch (llama_vocab_type(v)) {
    case LLAMA_VOCAB_TYPE_SPM: s.vocab_type = "spm"; break;
    case LLAMA_VOCAB_TYPE_BPE: s.vocab_type = "bpe"; break;
    case LLAMA_VOCAB_TYPE_WPM: s.vocab_type = "wpm"; break;
    case LLAMA_VOCAB_TYPE_UGM: s.vocab_type = "ugm"; break;
    default: s.vocab_type = "other"; break;
  }
  s.size_bytes = static_cast<int64_t>(llama_model_size(m.get()));
  return s;
}

std::vector<int32_t> tokenize(const llama_vocab* vocab, const std::string& text, bool add_special) {
  IRO_REQUIRE_ARG(text.size() < (1u << 30), "text is too long to tokenize");
  const int32_t len = static_cast<int32_t>(text.size());
  std::vector<llama_token> out(text.size() + 8);
  int32_t n = llama_tokenize(vocab, text.data(), len, out.data(), static_cast<int32_t>(out.size()), add_special, false);
  if (n < 0) {
    out.resize(static_cast<size_t>(-n));
    n = llama_tokenize(vocab, text.data(), len, out.data(), static_cast<int32_t>(out.size()), add_special, false);
  }
  if (n < 0) fail(codes::kInternal, "llama_tokenize failed");
  out.resize(static_cast<size_t>(n));
  return out;
}

std::string detokenize(const llama_vocab* vocab, const std::vector<int32_t>& tokens, bool remove_special) {
  const int32_t n_vocab = llama_vocab_n_tokens(vocab);
  for (int32_t t : tokens) IRO_REQUIRE_ARG(t >= 0 && t < n_vocab, "token id " + std::to_string(t) + " is outside the vocabulary");
  std::string out(tokens.size() * 8 + 16, '\0');
  int32_t n = llama_detokenize(vocab, tokens.data(), static_cast<int32_t>(tokens.size()), out.data(),
                               static_cast<int32_t>(out.size()), remove_special, false);
  if (n < 0) {
    out.resize(static_cast<size_t>(-n));
    n = llama_detokenize(vocab, tokens.data(), static_cast<int32_t>(tokens.size()), out.data(),
                         static_cast<int32_t>(out.size()), remove_special, false);
  }
  if (n < 0) fail(codes::kInternal, "llama_detokenize failed");
  out.resize(static_cast<size_t>(n));
  return out;
}

std::string token_piece(const llama_vocab* vocab, int32_t token) {
  char buf[256];
  const int32_t n = llama_token_to_piece(vocab, token, buf, sizeof buf, 0, false);
  if (n < 0) return {};
  return std::string(buf, static_cast<size_t>(n));
}

std::vector<std::vector<int32_t>> tokenize_texts(const std::string& path, const std::vector<std::string>& texts,
                                                 bool add_special) {
  LlamaModelPtr m = load_model(path, true);
  const llama_vocab* v = llama_model_get_vocab(m.get());
  std::vector<std::vector<int32_t>> out;
  out.reserve(texts.size());
  for (const auto& t : texts) out.push_back(tokenize(v, t, add_special));
  return out;
}

std::vector<std::string> detokenize_lists(const std::string& path, const std::vector<std::vector<int32_t>>& tokens,
                                          bool remove_special) {
  LlamaModelPtr m = load_model(path, true);
  const llama_vocab* v = llama_model_get_vocab(m.get());
  std::vector<std::string> out;
  out.reserve(tokens.size());
  for (const auto& t : tokens) out.push_back(detokenize(v, t, remove_special));
  return out;
}

}  // namespace iro::forge
