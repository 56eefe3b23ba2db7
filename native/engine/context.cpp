#include "native/engine/context.h"

#include <string>

#include "ggml-backend.h"
#include "ggml.h"
#include "llama.h"
#include "native/common/error.h"

namespace iro::engine {

Context::Context(std::shared_ptr<Model> model, const ContextOptions& o) : model_(std::move(model)) {
  IRO_REQUIRE_ARG(o.threads >= 1 && o.threads <= 1024, "threads must be in [1, 1024]");
  IRO_REQUIRE_ARG(o.max_sequences >= 1 && static_cast<size_t>(o.max_sequences) <= llama_max_parallel_sequences(),
              "maxSequences must be in [1, " + std::to_string(llama_max_parallel_sequences()) + "]");
  IRO_REQUIRE_ARG(o.context_size >= 16, "contextSize must be at least 16");
  IRO_REQUIRE_ARG(o.poll >= -1 && o.poll <= 100, "poll must be -1 (llama.cpp default) or in [0, 100]");
  llama_context_params cp = llama_context_default_params();
  cp.n_ctx = static_cast<uint32_t>(o.context_size);
  // One step may carry a whole prompt plus one token per live sequence.
  cp.n_batch = static_cast<uint32_t>(o.context_size);
  cp.n_ubatch = 512;
  cp.n_seq_max = static_cast<uint32_t>(o.max_sequences);
  cp.n_threads = o.threads;
  cp.n_threads_batch = o.threads;
  cp.kv_unified = true;  // forks share prompt cells (seq_cp is metadata only)
  cp.embeddings = false;
  cp.pooling_type = LLAMA_POOLING_TYPE_NONE;
  cp.no_perf = true;
  // ggml's CPU flash attention accumulates V in F16, so results would depend on where a
  // sequence's cells sit in the shared cache; the plain path accumulates in F32 and keeps a
  // sequence's tokens independent of what is batched alongside.
  cp.flash_attn_type = LLAMA_FLASH_ATTN_TYPE_DISABLED;
  ctx_ = llama_init_from_model(model_->get(), cp);
  if (!ctx_) fail(codes::kInvalidArgument, "llama.cpp could not create a context of " + std::to_string(o.context_size) +
                                               " tokens and " + std::to_string(o.max_sequences) + " sequences; lower contextSize or maxSequences");
  n_ctx_ = static_cast<int32_t>(llama_n_ctx(ctx_));
  n_batch_ = static_cast<int32_t>(llama_n_batch(ctx_));
  n_seq_max_ = static_cast<int32_t>(llama_n_seq_max(ctx_));
  threads_ = o.threads;

  if (o.poll >= 0 && o.threads > 1) {
    // The thread-pool API lives in the CPU backend plug-in; reach it through the registry.
    ggml_backend_reg_t cpu = ggml_backend_reg_by_name("CPU");
    auto make = cpu ? reinterpret_cast<ggml_threadpool* (*)(ggml_threadpool_params*)>(ggml_backend_reg_get_proc_address(cpu, "ggml_threadpool_new")) : nullptr;
    pool_free_ = cpu ? reinterpret_cast<void (*)(ggml_threadpool*)>(ggml_backend_reg_get_proc_address(cpu, "ggml_threadpool_free")) : nullptr;
    if (make && pool_free_) {
      ggml_threadpool_params tp = ggml_threadpool_params_default(o.threads);
      tp.poll = static_cast<uint32_t>(o.poll);
      pool_ = make(&tp);
      if (pool_) llama_attach_threadpool(ctx_, pool_, pool_);
    }
  }
}

Context::~Context() {
  if (ctx_) {
    if (pool_) llama_detach_threadpool(ctx_);
    llama_free(ctx_);
  }
  if (pool_ && pool_free_) pool_free_(pool_);
}

void Context::set_embeddings(bool on) {
  if (on == embeddings_) return;
  llama_set_embeddings(ctx_, on);
  embeddings_ = on;
}

void Context::decode(const llama_batch& batch) {
  const int32_t rc = llama_decode(ctx_, batch);
  if (rc == 0) return;
  if (rc == 1) fail(codes::kContextOverflow, "the KV cache is full (" + std::to_string(n_ctx_) + " cells); raise contextSize");
  if (rc == 2) fail(codes::kAborted, "decoding was aborted");
  fail(codes::kInternal, "llama_decode failed with code " + std::to_string(rc));
}

const float* Context::logits(int32_t row) const {
  const float* p = llama_get_logits_ith(ctx_, row);
  if (!p) fail(codes::kInternal, "no logits for batch row " + std::to_string(row));
  return p;
}

const float* Context::hidden(int32_t row) const {
  const float* p = llama_get_embeddings_ith(ctx_, row);
  if (!p) fail(codes::kInternal, "no hidden state for batch row " + std::to_string(row));
  return p;
}

}  // namespace iro::engine
