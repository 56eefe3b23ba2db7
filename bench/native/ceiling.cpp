// The throughput ceiling: the engine's batched-sampling workload driven straight through
// llama.cpp's C API in a minimal loop (no scheduler, no N-API, no JS). Same context settings,
// same sampler and RNG keys as the engine, so both do identical work.
//   iro_bench_ceiling <model.gguf> <prompt_tokens> <n> <max_tokens> <threads> <reps>
// Prints one JSON line per repetition.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "llama.h"
#include "native/kernels/sampler.h"
#include "native/llama/backend.h"

namespace {
double ms(std::chrono::steady_clock::time_point a) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - a).count();
}
}  // namespace

int main(int argc, char** argv) {
  if (argc < 7) {
    std::fprintf(stderr, "usage: %s model prompt_tokens n max_tokens threads reps\n", argv[0]);
    return 2;
  }
  const int prompt_len = std::atoi(argv[2]), n = std::atoi(argv[3]), max_tokens = std::atoi(argv[4]);
  const int threads = std::atoi(argv[5]), reps = std::atoi(argv[6]);
  iro::ensure_backends_loaded();
  llama_model* model = llama_model_load_from_file(argv[1], llama_model_default_params());
  if (!model) return 1;
  const llama_vocab* vocab = llama_model_get_vocab(model);
  const int n_vocab = llama_vocab_n_tokens(vocab);
  llama_context_params cp = llama_context_default_params();
  cp.n_ctx = static_cast<uint32_t>(prompt_len + n * max_tokens + 16);
  cp.n_batch = cp.n_ctx;
  cp.n_ubatch = 512;
  cp.n_seq_max = static_cast<uint32_t>(n);
  cp.n_threads = cp.n_threads_batch = threads;
  cp.kv_unified = true;
  cp.flash_attn_type = LLAMA_FLASH_ATTN_TYPE_DISABLED;
  cp.no_perf = true;
  llama_context* ctx = llama_init_from_model(model, cp);
  if (!ctx) return 1;
  std::vector<int32_t> prompt(static_cast<size_t>(prompt_len));
  for (int i = 0; i < prompt_len; ++i) prompt[static_cast<size_t>(i)] = 3 + (i * 131) % (n_vocab - 3);
  llama_batch batch = llama_batch_init(static_cast<int32_t>(cp.n_ctx), 0, 1);
  iro::SamplingParams sp;  // engine defaults: temperature 0.7, top-k 50
  iro::SamplerScratch scratch;
  for (int rep = 0; rep < reps; ++rep) {
    llama_memory_clear(llama_get_memory(ctx), true);
    const auto t0 = std::chrono::steady_clock::now();
    batch.n_tokens = 0;
    for (int i = 0; i < prompt_len; ++i) {
      batch.token[i] = prompt[static_cast<size_t>(i)];
      batch.pos[i] = i;
      batch.n_seq_id[i] = 1;
      batch.seq_id[i][0] = 0;
      batch.logits[i] = i == prompt_len - 1;
    }
    batch.n_tokens = prompt_len;
    if (llama_decode(ctx, batch) != 0) return 1;
    for (int s = 1; s < n; ++s) llama_memory_seq_cp(llama_get_memory(ctx), 0, s, -1, -1);
    const double prefill_ms = ms(t0);
    std::vector<int> row(static_cast<size_t>(n), prompt_len - 1), len(static_cast<size_t>(n), 0);
    std::vector<int32_t> last(static_cast<size_t>(n));
    std::vector<bool> live(static_cast<size_t>(n), true);
    long sampled = 0;
    for (int step = 0;; ++step) {
      // Sample every live sequence from its row, then decode the new tokens in one batch.
      batch.n_tokens = 0;
      for (int s = 0; s < n; ++s) {
        if (!live[static_cast<size_t>(s)]) continue;
        const float* logits = llama_get_logits_ith(ctx, row[static_cast<size_t>(s)]);
        const iro::RngKey key{0, 0, static_cast<uint32_t>(s), static_cast<uint32_t>(len[static_cast<size_t>(s)]), 0};
        const auto tok = iro::sample_token(logits, n_vocab, sp, key, scratch);
        ++sampled;
        if (llama_vocab_is_eog(vocab, tok.token) || ++len[static_cast<size_t>(s)] >= max_tokens) {
          live[static_cast<size_t>(s)] = false;
          llama_memory_seq_rm(llama_get_memory(ctx), s, -1, -1);
          continue;
        }
        const int i = batch.n_tokens++;
        batch.token[i] = tok.token;
        batch.pos[i] = prompt_len + len[static_cast<size_t>(s)] - 1;
        batch.n_seq_id[i] = 1;
        batch.seq_id[i][0] = s;
        batch.logits[i] = 1;
        row[static_cast<size_t>(s)] = i;
      }
      if (batch.n_tokens == 0) break;
      if (llama_decode(ctx, batch) != 0) return 1;
    }
    const double total = ms(t0);
    std::printf("{\"prefill_ms\":%.3f,\"gen_ms\":%.3f,\"total_ms\":%.3f,\"tokens\":%ld}\n", prefill_ms, total - prefill_ms, total, sampled);
    std::fflush(stdout);
  }
  llama_batch_free(batch);
  llama_free(ctx);
  llama_model_free(model);
  return 0;
}
