// Argument readers shared by the forge bindings (options objects -> native structs).
#pragma once
#include <napi.h>

#include <cmath>
#include <string>
#include <vector>

#include "bindings/napi_util.h"
#include "native/forge/model_dims.h"

namespace iro::napi {

inline int32_t int_field(const Napi::Object& o, const char* key, int32_t fallback) {
  const double v = number_field(o, key, fallback);
  IRO_EXPECT(std::isfinite(v) && std::floor(v) == v && std::fabs(v) <= 2147483647.0, std::string(key) + " must be an integer");
  return static_cast<int32_t>(v);
}

// Seeds are non-negative integers up to 2^53 (exact in a JS number).
inline uint64_t seed_field(const Napi::Object& o, const char* key) {
  const double v = number_field(o, key, 0);
  IRO_EXPECT(std::isfinite(v) && std::floor(v) == v && v >= 0 && v <= 9007199254740991.0,
         std::string(key) + " must be a non-negative integer");
  return static_cast<uint64_t>(v);
}

inline std::string optional_string_field(const Napi::Object& o, const char* key, const std::string& fallback) {
  Napi::Value v = o.Get(key);
  if (v.IsUndefined() || v.IsNull()) return fallback;
  IRO_EXPECT(v.IsString(), std::string(key) + " must be a string");
  return v.As<Napi::String>().Utf8Value();
}

inline std::vector<std::string> string_array(const Napi::Value& v, const char* name) {
  IRO_EXPECT(v.IsArray(), std::string(name) + " must be an array of strings");
  Napi::Array a = v.As<Napi::Array>();
  std::vector<std::string> out;
  out.reserve(a.Length());
  for (uint32_t i = 0; i < a.Length(); ++i) {
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
  std::vector<float> out;
  for (uint32_t i = 0; i < a.Length(); ++i) {
    Napi::Value e = a.Get(i);
    IRO_EXPECT(e.IsNumber() && std::isfinite(e.As<Napi::Number>().DoubleValue()), std::string(key) + " must hold finite numbers");
    out.push_back(e.As<Napi::Number>().FloatValue());
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
  for (size_t i = 0; i < lists.size(); ++i) {
    auto a = Napi::Int32Array::New(env, lists[i].size());
    std::copy(lists[i].begin(), lists[i].end(), a.Data());
    r.Set(i, a);
  }
  return r;
}

}  // namespace iro::napi
