#include "native/engine/reference.h"

#include <string>

#include "llama.h"
#include "native/common/error.h"
#include "native/common/unique_handle.h"
#include "native/engine/batch.h"

namespace iro::engine {
namespace {

using ContextPtr = UniqueHandle<llama_context, llama_free>;

ContextPtr fresh_context(const Model& model, int32_t n_tokens, int32_t threads) {
  llama_context_params cp = llama_context_default_params();
  cp.n_ctx = static_cast<uint32_t>(n_tokens + 16);
  cp.n_batch = cp.n_ctx;
  cp.n_seq_max = 1;
  cp.n_threads = threads;
  cp.n_threads_batch = threads;
  cp.no_perf = true;
  // ggml's CPU flash attention accumulates V in F16, so results would depend on where a
  // sequence's cells sit in the shared cache; the plain path accumulates in F32 and keeps a
  // sequence's tokens independent of what is batched alongside.
  cp.flash_attn_type = LLAMA_FLASH_ATTN_TYPE_DISABLED;
  ContextPtr ctx(llama_init_from_model(model.get(), cp));
  if (!ctx) fail(codes::kInternal, "reference: could not create a context");
  return ctx;
}

void validate(const Model& model, const std::vector<int32_t>& tokens) {
  IRO_REQUIRE_ARG(!tokens.empty(), "tokens must not be empty");
  for (int32_t t : tokens) IRO_REQUIRE_ARG(t >= 0 && t < model.n_vocab(), "token outside the vocabulary");
}

}  // namespace

std::vector<int32_t> reference_greedy(const Model& model, const std::vector<int32_t>& prompt, int32_t max_tokens, int32_t threads) {
  validate(model, prompt);
  IRO_REQUIRE_ARG(max_tokens >= 1, "maxTokens must be >= 1");
  const int32_t n = static_cast<int32_t>(prompt.size());
  auto ctx = fresh_context(model, n + max_tokens, threads);
  UniqueHandle<llama_sampler, llama_sampler_free> greedy(llama_sampler_init_greedy());
  Batch batch(n + 1);
  for (int32_t i = 0; i < n; ++i) batch.add(prompt[static_cast<size_t>(i)], i, 0, i == n - 1);
  if (llama_decode(ctx.get(), batch.get()) != 0) fail(codes::kInternal, "reference: prompt decode failed");
  std::vector<int32_t> out;
  for (int32_t step = 0; step < max_tokens; ++step) {
    const llama_token t = llama_sampler_sample(greedy.get(), ctx.get(), -1);
    if (model.is_eog(t)) break;
    out.push_back(t);
    if (step + 1 == max_tokens) break;
    batch.clear();
    batch.add(t, n + step, 0, true);
    if (llama_decode(ctx.get(), batch.get()) != 0) fail(codes::kInternal, "reference: decode failed");
  }
  return out;
}

std::vector<float> reference_logits(const Model& model, const std::vector<int32_t>& tokens, int32_t threads) {
  validate(model, tokens);
  const int32_t n = static_cast<int32_t>(tokens.size());
  auto ctx = fresh_context(model, n, threads);
  Batch batch(n);
  for (int32_t i = 0; i < n; ++i) batch.add(tokens[static_cast<size_t>(i)], i, 0, i == n - 1);
  if (llama_decode(ctx.get(), batch.get()) != 0) fail(codes::kInternal, "reference: decode failed");
  const float* l = llama_get_logits_ith(ctx.get(), -1);
  if (!l) fail(codes::kInternal, "reference: no logits");
  return std::vector<float>(l, l + model.n_vocab());
}

}  // namespace iro::engine
