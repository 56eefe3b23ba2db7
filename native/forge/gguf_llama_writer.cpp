#include "native/forge/gguf_llama_writer.h"

#include <sys/stat.h>

#include <cmath>
#include <utility>
#include <vector>

#include "ggml.h"
#include "gguf.h"
#include "native/common/error.h"
#include "native/common/rng.h"
#include "native/common/unique_handle.h"
#include "native/forge/output_file.h"

namespace iro::forge {
namespace {

struct TensorPlan {
  std::string name;
  int64_t ne0, ne1;  // ne1 == 0: a vector
  float std;         // 0: constant ones (norm weights)
};

std::vector<TensorPlan> plan_tensors(const ModelDims& d, int64_t n_vocab, float init_std, float embd_std) {
  const int64_t e = d.n_embd, kv = (d.n_embd / d.n_head) * d.n_head_kv;
  const float out_std = init_std / std::sqrt(2.0f * static_cast<float>(d.n_layer));
  std::vector<TensorPlan> t;
  t.push_back({"token_embd.weight", e, n_vocab, embd_std});
  t.push_back({"output_norm.weight", e, 0, 0.0f});
  t.push_back({"output.weight", e, n_vocab, init_std});
  for (int32_t i = 0; i < d.n_layer; ++i) {
    const std::string b = "blk." + std::to_string(i) + ".";
    t.push_back({b + "attn_norm.weight", e, 0, 0.0f});
    t.push_back({b + "attn_q.weight", e, e, init_std});
    t.push_back({b + "attn_k.weight", e, kv, init_std});
    t.push_back({b + "attn_v.weight", e, kv, init_std});
    t.push_back({b + "attn_output.weight", e, e, out_std});
    t.push_back({b + "ffn_norm.weight", e, 0, 0.0f});
    t.push_back({b + "ffn_gate.weight", e, d.n_ff, init_std});
    t.push_back({b + "ffn_up.weight", e, d.n_ff, init_std});
    t.push_back({b + "ffn_down.weight", d.n_ff, e, out_std});
  }
  return t;
}

// Standard normal from two keyed uniforms (Box-Muller); depends only on (seed, tensor, element).
float keyed_normal(uint64_t seed, uint32_t tensor, uint32_t element) {
  const RngKey k1{seed, tensor, element, 0, 1};
  const RngKey k2{seed, tensor, element, 0, 2};
  const double u1 = (static_cast<double>(rng_bits(k1) >> 8) + 0.5) / 16777216.0;
  const double u2 = static_cast<double>(rng_bits(k2) >> 8) / 16777216.0;
  return static_cast<float>(std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2));
}

void set_vocab(gguf_context* g, const SpmVocab& v) {
  gguf_set_val_str(g, "tokenizer.ggml.model", "llama");
  std::vector<const char*> texts;
  texts.reserve(v.tokens.size());
  for (const auto& t : v.tokens) texts.push_back(t.c_str());
  gguf_set_arr_str(g, "tokenizer.ggml.tokens", texts.data(), texts.size());
  gguf_set_arr_data(g, "tokenizer.ggml.scores", GGUF_TYPE_FLOAT32, v.scores.data(), v.scores.size());
  gguf_set_arr_data(g, "tokenizer.ggml.token_type", GGUF_TYPE_INT32, v.types.data(), v.types.size());
  gguf_set_val_u32(g, "tokenizer.ggml.unknown_token_id", kUnkId);
  gguf_set_val_u32(g, "tokenizer.ggml.bos_token_id", kBosId);
  gguf_set_val_u32(g, "tokenizer.ggml.eos_token_id", kEosId);
  gguf_set_val_bool(g, "tokenizer.ggml.add_bos_token", v.add_bos);
  gguf_set_val_bool(g, "tokenizer.ggml.add_eos_token", v.add_eos);
  gguf_set_val_bool(g, "tokenizer.ggml.add_space_prefix", v.add_space_prefix);
}

void set_hparams(gguf_context* g, const ModelDims& d, int32_t n_vocab, const std::string& name) {
  gguf_set_val_str(g, "general.architecture", "llama");
  gguf_set_val_str(g, "general.name", name.c_str());
  gguf_set_val_u32(g, "general.file_type", 0);  // all f32
  gguf_set_val_u32(g, "llama.vocab_size", static_cast<uint32_t>(n_vocab));
  gguf_set_val_u32(g, "llama.context_length", static_cast<uint32_t>(d.n_ctx_train));
  gguf_set_val_u32(g, "llama.embedding_length", static_cast<uint32_t>(d.n_embd));
  gguf_set_val_u32(g, "llama.block_count", static_cast<uint32_t>(d.n_layer));
  gguf_set_val_u32(g, "llama.feed_forward_length", static_cast<uint32_t>(d.n_ff));
  gguf_set_val_u32(g, "llama.attention.head_count", static_cast<uint32_t>(d.n_head));
  gguf_set_val_u32(g, "llama.attention.head_count_kv", static_cast<uint32_t>(d.n_head_kv));
  gguf_set_val_f32(g, "llama.attention.layer_norm_rms_epsilon", d.rms_eps);
  gguf_set_val_f32(g, "llama.rope.freq_base", d.rope_freq_base);
  gguf_set_val_u32(g, "llama.rope.dimension_count", static_cast<uint32_t>(d.n_embd / d.n_head));
}

}  // namespace

WrittenModel write_random_llama(const std::string& path, const ModelDims& dims, const SpmVocab& vocab, uint64_t seed,
                                const std::string& name, float init_std, float embd_std) {
  validate_dims(dims);
  IRO_REQUIRE_ARG(vocab.size() > kFirstPieceId, "the vocabulary must hold the control and byte tokens");
  IRO_REQUIRE_ARG(vocab.scores.size() == vocab.tokens.size() && vocab.types.size() == vocab.tokens.size(),
              "vocabulary arrays differ in length");
  IRO_REQUIRE_ARG(std::isfinite(init_std) && init_std > 0.0f, "initStd must be a positive number");
  IRO_REQUIRE_ARG(std::isfinite(embd_std) && embd_std > 0.0f, "embdInitStd must be a positive number");
  check_output_path(path);

  const int32_t n_vocab = vocab.size();
  const std::vector<TensorPlan> plan = plan_tensors(dims, n_vocab, init_std, embd_std);
  size_t bytes = 0;
  for (const auto& t : plan) bytes += ggml_tensor_overhead() + sizeof(float) * t.ne0 * (t.ne1 ? t.ne1 : 1) + 64;

  ggml_init_params ip{};
  ip.mem_size = bytes + 1024;
  ip.mem_buffer = nullptr;
  ip.no_alloc = false;
  UniqueHandle<ggml_context, ggml_free> ctx(ggml_init(ip));
  if (!ctx) throw std::bad_alloc();
  UniqueHandle<gguf_context, gguf_free> g(gguf_init_empty());
  set_hparams(g.get(), dims, n_vocab, name);
  set_vocab(g.get(), vocab);

  WrittenModel out;
  out.n_vocab = n_vocab;
  for (size_t ti = 0; ti < plan.size(); ++ti) {
    const TensorPlan& p = plan[ti];
    ggml_tensor* t = p.ne1 ? ggml_new_tensor_2d(ctx.get(), GGML_TYPE_F32, p.ne0, p.ne1)
                           : ggml_new_tensor_1d(ctx.get(), GGML_TYPE_F32, p.ne0);
    ggml_set_name(t, p.name.c_str());
    float* data = static_cast<float*>(t->data);
    const int64_t n = ggml_nelements(t);
    IRO_REQUIRE_ARG(n <= static_cast<int64_t>(UINT32_MAX), "tensor " + p.name + " is too large for the forge");
    for (int64_t i = 0; i < n; ++i) {
      data[i] = p.std == 0.0f ? 1.0f : p.std * keyed_normal(seed, static_cast<uint32_t>(ti), static_cast<uint32_t>(i));
    }
    out.n_params += n;
    gguf_add_tensor(g.get(), t);
  }

  AtomicOutput file(path);
  if (!gguf_write_to_file(g.get(), file.temp_path().c_str(), false)) {
    fail(codes::kIo, "failed to write " + path + " (disk full or folder not writable?)");
  }
  file.commit();
  struct stat st {};
  if (stat(path.c_str(), &st) == 0) out.file_bytes = st.st_size;
  return out;
}

}  // namespace iro::forge
