#include "native/forge/model_dims.h"

#include <cmath>
#include <string>

#include "native/common/error.h"

namespace iro::forge {

void validate_dims(const ModelDims& d) {
  auto positive = [](int32_t v, const char* name, int32_t max) {
    IRO_REQUIRE_ARG(v >= 1 && v <= max, std::string(name) + " must be an integer between 1 and " + std::to_string(max) +
                                         " (got " + std::to_string(v) + ")");
  };
  positive(d.n_embd, "nEmbd", 16384);
  positive(d.n_layer, "nLayer", 256);
  positive(d.n_head, "nHead", 1024);
  positive(d.n_head_kv, "nHeadKv", 1024);
  positive(d.n_ff, "nFf", 65536);
  positive(d.n_ctx_train, "nCtxTrain", 1 << 20);
  IRO_REQUIRE_ARG(d.n_embd % d.n_head == 0, "nHead (" + std::to_string(d.n_head) + ") must divide nEmbd (" +
                                            std::to_string(d.n_embd) + ")");
  IRO_REQUIRE_ARG(d.n_head % d.n_head_kv == 0, "nHeadKv (" + std::to_string(d.n_head_kv) + ") must divide nHead (" +
                                               std::to_string(d.n_head) + ")");
  // RoPE rotates pairs of dimensions, so a head needs an even width.
  IRO_REQUIRE_ARG((d.n_embd / d.n_head) % 2 == 0, "nEmbd / nHead must be even (RoPE rotates pairs), got " +
                                                  std::to_string(d.n_embd / d.n_head));
  IRO_REQUIRE_ARG(std::isfinite(d.rms_eps) && d.rms_eps > 0.0f, "rmsEps must be a positive number");
  IRO_REQUIRE_ARG(std::isfinite(d.rope_freq_base) && d.rope_freq_base > 0.0f, "ropeFreqBase must be a positive number");
}

int64_t count_params(const ModelDims& d, int64_t n_vocab) {
  const int64_t e = d.n_embd, head = d.n_embd / d.n_head, kv = head * d.n_head_kv, ff = d.n_ff;
  const int64_t per_layer = e /*attn_norm*/ + e * e /*q*/ + 2 * e * kv /*k,v*/ + e * e /*o*/ + e /*ffn_norm*/ + 3 * e * ff;
  return 2 * n_vocab * e + e /*output_norm*/ + d.n_layer * per_layer;
}

}  // namespace iro::forge
