// A loaded llama.cpp model (weights + vocabulary), shared read-only by the engine's context and by
// any reference contexts. Loading classifies failures into stable error codes.
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "native/llama/vocab_fingerprint.h"

struct llama_model;
struct llama_vocab;

namespace iro::engine {

struct ModelOptions {
  std::string path;
  int32_t gpu_layers = 0;  // layers offloaded to a GPU (-1 = all); 0 keeps everything on the CPU
  // Called from the loading thread with progress in [0, 1]; return false to cancel the load.
  std::function<bool(float)> on_progress;
};

struct ChatMessage {
  std::string role;
  std::string content;
};

class Model {
 public:
  // Throws MODEL_NOT_FOUND, INVALID_GGUF, UNSUPPORTED_MODEL, ABORTED (progress returned false).
  static std::shared_ptr<Model> load(const ModelOptions& options);
  ~Model();
  Model(const Model&) = delete;
  Model& operator=(const Model&) = delete;

  llama_model* get() const { return model_; }
  const llama_vocab* vocab() const { return vocab_; }

  int32_t n_vocab() const { return n_vocab_; }
  int32_t n_embd() const { return n_embd_; }
  int32_t n_ctx_train() const { return n_ctx_train_; }
  const std::string& architecture() const { return architecture_; }
  const std::string& description() const { return description_; }
  const VocabFingerprint& fingerprint() const { return fingerprint_; }
  bool is_eog(int32_t token) const;
  int32_t bos() const;
  int32_t eos() const;

  std::vector<int32_t> tokenize(const std::string& text, bool add_special, bool parse_special) const;
  std::string detokenize(const std::vector<int32_t>& tokens, bool render_special) const;
  // Uses the chat template stored in the GGUF (tokenizer.chat_template). Throws UNSUPPORTED_MODEL
  // when the model has none or llama.cpp does not know it.
  std::string apply_chat_template(const std::vector<ChatMessage>& messages, bool add_assistant) const;
  bool has_chat_template() const;

 private:
  Model() = default;
  llama_model* model_ = nullptr;
  const llama_vocab* vocab_ = nullptr;
  int32_t n_vocab_ = 0, n_embd_ = 0, n_ctx_train_ = 0;
  std::string architecture_, description_;
  VocabFingerprint fingerprint_;
};

}  // namespace iro::engine
