#include "native/engine/model.h"

#include <sys/stat.h>

#include <cstdio>
#include <cstring>

#include "gguf.h"
#include "llama.h"
#include "native/common/error.h"
#include "native/common/unique_handle.h"
#include "native/llama/backend.h"

namespace iro::engine {
namespace {

bool has_gguf_magic(const std::string& path) {
  FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) return false;
  char magic[4] = {0, 0, 0, 0};
  const size_t n = std::fread(magic, 1, 4, f);
  std::fclose(f);
  return n == 4 && std::memcmp(magic, "GGUF", 4) == 0;
}

// Reads general.architecture without loading tensors; throws INVALID_GGUF on a malformed file.
std::string read_architecture(const std::string& path) {
  gguf_init_params params{};
  params.no_alloc = true;
  params.ctx = nullptr;
  UniqueHandle<gguf_context, gguf_free> ctx(gguf_init_from_file(path.c_str(), params));
  if (!ctx) fail(codes::kInvalidGguf, "the GGUF file is truncated or malformed: " + path + " (re-download or re-export it)");
  const int64_t key = gguf_find_key(ctx.get(), "general.architecture");
  if (key < 0 || gguf_get_kv_type(ctx.get(), key) != GGUF_TYPE_STRING) {
    fail(codes::kInvalidGguf, "the GGUF file has no general.architecture: " + path + " (is it a model file?)");
  }
  return gguf_get_val_str(ctx.get(), key);
}

struct ProgressState {
  const std::function<bool(float)>* fn;
  bool cancelled = false;
};

bool progress_trampoline(float p, void* user) {
  auto* st = static_cast<ProgressState*>(user);
  if ((*st->fn)(p)) return true;
  st->cancelled = true;
  return false;
}

}  // namespace

std::shared_ptr<Model> Model::load(const ModelOptions& options) {
  struct stat st {};
  if (options.path.empty() || stat(options.path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) {
    fail(codes::kModelNotFound, "model file not found: '" + options.path + "' (pass the path of a local .gguf file)");
  }
  if (!has_gguf_magic(options.path)) {
    fail(codes::kInvalidGguf, "not a GGUF file: " + options.path + " (llama.cpp models are .gguf files; convert it with llama.cpp's converter)");
  }
  const std::string arch = read_architecture(options.path);
  ensure_backends_loaded();

  llama_model_params mp = llama_model_default_params();
  mp.n_gpu_layers = options.gpu_layers;
  ProgressState progress{&options.on_progress};
  if (options.on_progress) {
    mp.progress_callback = progress_trampoline;
    mp.progress_callback_user_data = &progress;
  }
  llama_model* raw = llama_model_load_from_file(options.path.c_str(), mp);
  if (!raw) {
    if (progress.cancelled) fail(codes::kAborted, "model loading was aborted");
    fail(codes::kUnsupportedModel, "llama.cpp " IRO_LLAMA_RELEASE " could not load '" + options.path + "' (architecture '" + arch +
                                       "'): the architecture is unknown to this release or the file's tensors do not match it");
  }
  std::shared_ptr<Model> m(new Model());
  m->model_ = raw;
  if (llama_model_has_encoder(raw) || !llama_model_has_decoder(raw) || llama_model_is_diffusion(raw) ||
      llama_model_is_recurrent(raw) || llama_model_is_hybrid(raw)) {
    fail(codes::kUnsupportedModel, "architecture '" + arch +
                                       "' is not supported by the engine: it needs a decoder-only transformer with an attention KV cache (forks share it)");
  }
  m->vocab_ = llama_model_get_vocab(raw);
  m->n_vocab_ = llama_vocab_n_tokens(m->vocab_);
  m->n_embd_ = llama_model_n_embd(raw);
  m->n_ctx_train_ = llama_model_n_ctx_train(raw);
  m->architecture_ = arch;
  char desc[256];
  if (llama_model_desc(raw, desc, sizeof desc) > 0) m->description_ = desc;
  m->fingerprint_ = vocab_fingerprint(m->vocab_);
  if (m->n_vocab_ <= 0) fail(codes::kUnsupportedModel, "model has an empty vocabulary: " + options.path);
  return m;
}

Model::~Model() {
  if (model_) llama_model_free(model_);
}

bool Model::is_eog(int32_t token) const { return llama_vocab_is_eog(vocab_, token); }
int32_t Model::bos() const { return llama_vocab_bos(vocab_); }
int32_t Model::eos() const { return llama_vocab_eos(vocab_); }

std::vector<int32_t> Model::tokenize(const std::string& text, bool add_special, bool parse_special) const {
  IRO_REQUIRE_ARG(text.size() < static_cast<size_t>(INT32_MAX / 2), "text is too long to tokenize");
  std::vector<int32_t> out(text.size() + 8);
  int32_t n = llama_tokenize(vocab_, text.data(), static_cast<int32_t>(text.size()), out.data(), static_cast<int32_t>(out.size()),
                             add_special, parse_special);
  if (n < 0) {
    if (n == INT32_MIN) fail(codes::kInvalidArgument, "text is too long to tokenize");
    out.resize(static_cast<size_t>(-n));
    n = llama_tokenize(vocab_, text.data(), static_cast<int32_t>(text.size()), out.data(), static_cast<int32_t>(out.size()),
                       add_special, parse_special);
    if (n < 0) fail(codes::kInternal, "llama_tokenize failed");
  }
  out.resize(static_cast<size_t>(n));
  return out;
}

std::string Model::detokenize(const std::vector<int32_t>& tokens, bool render_special) const {
  for (int32_t t : tokens) IRO_REQUIRE_ARG(t >= 0 && t < n_vocab_, "token id " + std::to_string(t) + " is outside the vocabulary [0, " + std::to_string(n_vocab_) + ")");
  std::string out(tokens.size() * 8 + 16, '\0');
  int32_t n = llama_detokenize(vocab_, tokens.data(), static_cast<int32_t>(tokens.size()), out.data(), static_cast<int32_t>(out.size()),
                               false, render_special);
  if (n < 0) {
    out.resize(static_cast<size_t>(-n));
    n = llama_detokenize(vocab_, tokens.data(), static_cast<int32_t>(tokens.size()), out.data(), static_cast<int32_t>(out.size()), false,
                         render_special);
    if (n < 0) fail(codes::kInternal, "llama_detokenize failed");
  }
  out.resize(static_cast<size_t>(n));
  return out;
}

bool Model::has_chat_template() const { return llama_model_chat_template(model_, nullptr) != nullptr; }

std::string Model::apply_chat_template(const std::vector<ChatMessage>& messages, bool add_assistant) const {
  const char* tmpl = llama_model_chat_template(model_, nullptr);
  if (!tmpl) fail(codes::kUnsupportedModel, "the model has no chat template (tokenizer.chat_template); format the prompt yourself");
  std::vector<llama_chat_message> chat;
  size_t total = 0;
  for (const auto& m : messages) {
    chat.push_back({m.role.c_str(), m.content.c_str()});
    total += m.role.size() + m.content.size();
  }
  std::string buf(total * 2 + 256, '\0');
  int32_t n = llama_chat_apply_template(tmpl, chat.data(), chat.size(), add_assistant, buf.data(), static_cast<int32_t>(buf.size()));
  if (n > static_cast<int32_t>(buf.size())) {
    buf.resize(static_cast<size_t>(n));
    n = llama_chat_apply_template(tmpl, chat.data(), chat.size(), add_assistant, buf.data(), static_cast<int32_t>(buf.size()));
  }
  if (n < 0) fail(codes::kUnsupportedModel, "llama.cpp " IRO_LLAMA_RELEASE " does not recognise this model's chat template; format the prompt yourself");
  buf.resize(static_cast<size_t>(n));
  return buf;
}

}  // namespace iro::engine
