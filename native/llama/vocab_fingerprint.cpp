#include "native/llama/vocab_fingerprint.h"

#include <sys/stat.h>

#include <cstdio>
#include <cstring>
#include <memory>

#include "gguf.h"
#include "llama.h"
#include "native/common/error.h"
#include "native/common/unique_handle.h"

namespace iro {
namespace {

class Fnv64 {
 public:
  void add(const char* s) {
    for (const unsigned char* p = reinterpret_cast<const unsigned char*>(s); *p; ++p) byte(*p);
    byte(0);
  }
  void add_u32(uint32_t v) {
    for (int i = 0; i < 4; ++i) byte(static_cast<unsigned char>(v >> (8 * i)));
  }
  std::string hex() const {
    char buf[17];
    std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h_));
    return buf;
  }

 private:
  void byte(unsigned char c) {
    h_ ^= c;
    h_ *= 0x100000001b3ULL;
  }
  uint64_t h_ = 0xcbf29ce484222325ULL;
};

}  // namespace

VocabFingerprint vocab_fingerprint(const llama_vocab* vocab) {
  Fnv64 h;
  const int32_t n = llama_vocab_n_tokens(vocab);
  for (int32_t i = 0; i < n; ++i) h.add(llama_vocab_get_text(vocab, i));
  h.add_u32(static_cast<uint32_t>(n));
  return {n, h.hex()};
}

VocabFingerprint vocab_fingerprint_from_gguf(const std::string& path) {
  struct stat st {};
  if (stat(path.c_str(), &st) != 0) fail(codes::kModelNotFound, "model file not found: " + path);
  gguf_init_params params{};
  params.no_alloc = true;
  params.ctx = nullptr;
  UniqueHandle<gguf_context, gguf_free> ctx(gguf_init_from_file(path.c_str(), params));
  if (!ctx) fail(codes::kInvalidGguf, "not a readable GGUF file: " + path);
  const int64_t key = gguf_find_key(ctx.get(), "tokenizer.ggml.tokens");
  if (key < 0 || gguf_get_arr_type(ctx.get(), key) != GGUF_TYPE_STRING) {
    fail(codes::kInvalidGguf, "GGUF file has no tokenizer.ggml.tokens array: " + path);
  }
  Fnv64 h;
  const size_t n = gguf_get_arr_n(ctx.get(), key);
  for (size_t i = 0; i < n; ++i) h.add(gguf_get_arr_str(ctx.get(), key, i));
  h.add_u32(static_cast<uint32_t>(n));
  return {static_cast<int32_t>(n), h.hex()};
}

}  // namespace iro
