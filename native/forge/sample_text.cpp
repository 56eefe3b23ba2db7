#include "native/forge/sample_text.h"

#include <algorithm>

#include "native/common/error.h"
#include "native/forge/llama_model_file.h"

namespace iro::forge {

std::vector<SampleResult> sample_texts(const std::string& model_path, const std::vector<std::string>& prompts,
                                       const SampleOptions& o) {
  IRO_REQUIRE_ARG(o.max_tokens >= 1 && o.max_tokens <= 4096, "maxTokens must be between 1 and 4096");
  IRO_REQUIRE_ARG(o.threads >= 1 && o.threads <= 1024, "threads must be between 1 and 1024");
  validate_sampling(o.sampling);
  LlamaModelPtr model = load_model(model_path, false);
  const llama_vocab* vocab = llama_model_get_vocab(model.get());
  const int32_t n_vocab = llama_vocab_n_tokens(vocab);

  std::vector<std::vector<int32_t>> prompt_tokens;
  size_t longest = 0;
  for (const auto& p : prompts) {
    prompt_tokens.push_back(tokenize(vocab, p, true));
    longest = std::max(longest, prompt_tokens.back().size());
  }
  llama_context_params cp = llama_context_default_params();
  cp.n_ctx = static_cast<uint32_t>(longest + o.max_tokens + 1);
  cp.n_batch = std::max<uint32_t>(cp.n_ctx, 64);
  cp.n_ubatch = cp.n_batch;
  cp.n_seq_max = 1;
  cp.n_threads = o.threads;
  cp.n_threads_batch = o.threads;
  cp.no_perf = true;
  LlamaContextPtr ctx(llama_init_from_model(model.get(), cp));
  if (!ctx) fail(codes::kInternal, "llama.cpp could not create a context for " + model_path);
  const int32_t n_ctx_train = llama_model_n_ctx_train(model.get());

  std::vector<SampleResult> out(prompts.size());
  SamplerScratch scratch;
  for (size_t i = 0; i < prompts.size(); ++i) {
    llama_memory_clear(llama_get_memory(ctx.get()), true);
    std::vector<int32_t> cur = prompt_tokens[i];
    if (static_cast<int32_t>(cur.size()) >= n_ctx_train) {
      fail(codes::kContextOverflow, "prompt " + std::to_string(i) + " is longer than the model's context");
    }
    llama_batch batch = llama_batch_get_one(cur.data(), static_cast<int32_t>(cur.size()));
    SampleResult& r = out[i];
    int32_t pos = static_cast<int32_t>(cur.size());
    for (int32_t step = 0; step < o.max_tokens && pos < n_ctx_train; ++step) {
      if (llama_decode(ctx.get(), batch) != 0) fail(codes::kInternal, "llama_decode failed while sampling");
      const float* logits = llama_get_logits_ith(ctx.get(), -1);
      const RngKey key{o.seed, static_cast<uint32_t>(i), 0, static_cast<uint32_t>(step), 0};
      llama_token tok = sample_token(logits, n_vocab, o.sampling, key, scratch).token;
      if (llama_vocab_is_eog(vocab, tok)) {
        r.ended = true;
        break;
      }
      r.tokens.push_back(tok);
      cur.assign(1, tok);
      batch = llama_batch_get_one(cur.data(), 1);
      ++pos;
    }
    // Detokenize the continuation as it reads after the prompt (no leading-space removal).
    for (int32_t t : r.tokens) r.text += token_piece(vocab, t);
  }
  return out;
}

}  // namespace iro::forge
