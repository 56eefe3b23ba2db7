// Argument readers shared by the forge bindings (options objects -> native structs).
#pragma once
#include <napi.h>

#include <cmath>
#include <string>
#include <vector>

#include "bindings/napi_util.h"
#include "native/forge/model_dims.h"

namespace iro::napi {

inline std::vector<std::string> string_array(const Napi::Value& v, const char* name) {
  IRO_EXPECT(v.IsArray(), std::string(name) + " must be an array of strings");
  Napi::Array a = v.As<Napi::Array>();
  const uint32_t n = a.Length();
  std::vector<std::string> out;
  out.reserve(n);
  for (uint32_t i = 0; i < n; ++i) {
    Napi::Value e = a.Get(i);
    IRO_EXPECT(e.IsString(), std::string(name) + "[" + std::to_string(i) + "] must be a string");
    out.push_back(e.As<Napi::String>().Utf8Value());
  }
  return out;
}

inline std::vector<std::string> string_array_field(const Napi::Object& o, const char* key) {
  Napi::Value v = o.Get(key);
  if (v.IsUndefined() || v.IsNull()) return {};
  return string_array(v, key);
}

inline std::vector<float> float_array_field(const Napi::Object& o, const char* key) {
  Napi::Value v = o.Get(key);
  if (v.IsUndefined() || v.IsNull()) return {};
  IRO_EXPECT(v.IsArray(), std::string(key) + " must be an array of numbers");
  Napi::Array a = v.As<Napi::Array>();
  const uint32_t n = a.Length();
  std::vector<float> out;
  for (uint32_t i = 0; i < n; ++i) {
    Napi::Value e = a.Get(i);
    const double x = e.IsNumber() ? e.As<Napi::Number>().DoubleValue() : NAN;  // NaN fails the check
    IRO_EXPECT(std::isfinite(x), std::string(key) + " must hold finite numbers");
    out.push_back(static_cast<float>(x));
  }
  return out;
}

inline forge::ModelDims forge_dims(const Napi::Object& o) {
  forge::ModelDims d;
  d.n_embd = int_field(o, "nEmbd", d.n_embd);
  d.n_layer = int_field(o, "nLayer", d.n_layer);
  d.n_head = int_field(o, "nHead", d.n_head);
  d.n_head_kv = int_field(o, "nHeadKv", d.n_head);
  d.n_ff = int_field(o, "nFf", d.n_ff);
  d.n_ctx_train = int_field(o, "nCtxTrain", d.n_ctx_train);
  d.rms_eps = static_cast<float>(number_field(o, "rmsEps", d.rms_eps));
  d.rope_freq_base = static_cast<float>(number_field(o, "ropeFreqBase", d.rope_freq_base));
  return d;
}

inline Napi::Array int_lists_to_js(Napi::Env env, const std::vector<std::vector<int32_t>>& lists) {
  Napi::Array r = Napi::Array::New(env, lists.size());
  for (size_t i = 0; i < lists.size(); ++i) r.Set(i, to_typed_array(env, lists[i]));
  return r;
}

}  // namespace iro::napi
