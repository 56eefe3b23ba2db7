// Shared pieces of the engine bindings: the handle object behind a JS engine, and option readers.
#pragma once
#include <napi.h>

#include <atomic>
#include <cmath>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "bindings/napi_util.h"
#include "native/engine/model.h"
#include "native/engine/scheduler.h"

namespace iro::napi::engine {

// What a JS engine handle points at. `disposed` is set on the JS thread before the native
// objects are torn down off-thread, so every later call fails with DISPOSED.
struct EngineBox {
  std::shared_ptr<iro::engine::Model> model;
  std::unique_ptr<iro::engine::Scheduler> scheduler;
  std::atomic<bool> disposed{false};
  int32_t threads = 1;
  ~EngineBox() {
    if (scheduler) scheduler->shutdown();
  }
};
using BoxRef = std::shared_ptr<EngineBox>;

// The live box behind a handle, or throws DISPOSED / INVALID_ARGUMENT.
BoxRef box_of(const Napi::Value& handle);
Napi::Value wrap_box(Napi::Env env, BoxRef box);

inline double opt_number(const Napi::Object& o, const char* key, double fallback) { return number_field(o, key, fallback); }

inline int32_t opt_int(const Napi::Object& o, const char* key, int32_t fallback) {
  const double v = number_field(o, key, fallback);
  IRO_EXPECT(std::isfinite(v) && std::floor(v) == v && std::fabs(v) <= 2147483647.0, std::string(key) + " must be an integer");
  return static_cast<int32_t>(v);
}

inline bool opt_bool(const Napi::Object& o, const char* key, bool fallback) {
  Napi::Value v = o.Get(key);
  if (v.IsUndefined() || v.IsNull()) return fallback;
  IRO_EXPECT(v.IsBoolean(), std::string(key) + " must be a boolean");
  return v.As<Napi::Boolean>().Value();
}

inline std::vector<int32_t> tokens_arg(const Napi::Value& v, const char* name) {
  auto a = typed_array<int32_t>(v, name);
  return std::vector<int32_t>(a.Data(), a.Data() + a.ElementLength());
}

inline Napi::Int32Array to_int32_array(Napi::Env env, const std::vector<int32_t>& v) {
  auto a = Napi::Int32Array::New(env, v.size());
  for (size_t i = 0; i < v.size(); ++i) a[i] = v[i];
  return a;
}

inline Napi::Float32Array to_float32_array(Napi::Env env, const std::vector<float>& v) {
  auto a = Napi::Float32Array::New(env, v.size());
  for (size_t i = 0; i < v.size(); ++i) a[i] = v[i];
  return a;
}

// Request counters and times as JS (search adds its own fields to both objects).
inline Napi::Object stats_to_js(Napi::Env env, const iro::engine::RequestStats& s) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("promptTokens", static_cast<double>(s.prompt_tokens));
  o.Set("tokensSampled", static_cast<double>(s.tokens_sampled));
  o.Set("tokensEvaluated", static_cast<double>(s.tokens_evaluated));
  o.Set("decodeSteps", static_cast<double>(s.decode_steps));
  o.Set("forks", static_cast<double>(s.forks));
  o.Set("prunes", static_cast<double>(s.prunes));
  o.Set("maxLiveSequences", s.max_live_sequences);
  Napi::Object t = Napi::Object::New(env);
  t.Set("queueMs", s.queue_ms);
  t.Set("prefillMs", s.prefill_ms);
  t.Set("decodeMs", s.decode_ms);
  t.Set("sampleMs", s.sample_ms);
  t.Set("policyMs", s.policy_ms);
  t.Set("totalMs", s.total_ms);
  o.Set("time", t);
  return o;
}

// The fields every decoded candidate carries to JS (plain decoding and search add their own).
inline Napi::Object candidate_to_js(Napi::Env env, const iro::engine::CandidateResult& c) {
  Napi::Object j = Napi::Object::New(env);
  j.Set("index", c.index);
  j.Set("parent", c.parent);
  j.Set("tokens", to_int32_array(env, c.tokens));
  j.Set("logprobs", to_float32_array(env, c.logprobs));
  j.Set("text", c.text);
  j.Set("finishReason", iro::engine::finish_reason_name(c.reason));
  return j;
}

void register_decode(Napi::Env env, Napi::Object exports);

}  // namespace iro::napi::engine
