// The engine's one llama_context: unified KV cache, n_seq_max sequences, thread settings. Not
// thread-safe: only the scheduler thread touches it after construction.
#pragma once
#include <cstdint>
#include <memory>

#include "native/engine/model.h"

struct llama_context;
struct llama_batch;
struct ggml_threadpool;

namespace iro::engine {

struct ContextOptions {
  int32_t context_size = 2048;  // KV cells shared by all sequences (llama.cpp pads up to a multiple of 256)
  int32_t max_sequences = 16;   // n_seq_max
  int32_t threads = 1;
  // ggml thread-pool polling level (0..100) for threads > 1, or -1 for llama.cpp's own pool.
  int32_t poll = -1;
};

class Context {
 public:
  Context(std::shared_ptr<Model> model, const ContextOptions& options);
  ~Context();
  Context(const Context&) = delete;
  Context& operator=(const Context&) = delete;

  llama_context* get() const { return ctx_; }
  const Model& model() const { return *model_; }
  int32_t n_ctx() const { return n_ctx_; }
  int32_t n_batch() const { return n_batch_; }
  int32_t n_seq_max() const { return n_seq_max_; }
  int32_t threads() const { return threads_; }

  // Turns final-layer hidden-state output on or off for the next decode (cheap; llama.cpp then
  // outputs every token of the batch, so callers keep prompt prefill out of such decodes).
  void set_embeddings(bool on);
  bool embeddings() const { return embeddings_; }
  // Throws on failure with a code (CONTEXT_OVERFLOW when no KV slot was found).
  void decode(const ::llama_batch& batch);
  const float* logits(int32_t row) const;
  const float* hidden(int32_t row) const;

 private:
  std::shared_ptr<Model> model_;
  llama_context* ctx_ = nullptr;
  ggml_threadpool* pool_ = nullptr;
  void (*pool_free_)(ggml_threadpool*) = nullptr;
  int32_t n_ctx_ = 0, n_batch_ = 0, n_seq_max_ = 0, threads_ = 1;
  bool embeddings_ = false;
};

}  // namespace iro::engine
