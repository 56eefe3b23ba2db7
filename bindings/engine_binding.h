// Shared pieces of the engine bindings: the handle object behind a JS engine, request option
// readers, and the settling of a request's promise from the scheduler thread.
#pragma once
#include <napi.h>

#include <atomic>
#include <functional>
#include <memory>

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

// Token sampling options of a request (decoding and search read the same names and defaults).
inline iro::SamplingParams sampling_fields(const Napi::Object& o) {
  iro::SamplingParams p;
  p.temperature = static_cast<float>(number_field(o, "temperature", 0.7));
  p.top_k = int_field(o, "topK", 50);
  p.top_p = static_cast<float>(number_field(o, "topP", 1.0));
  p.min_p = static_cast<float>(number_field(o, "minP", 0.0));
  return p;
}

inline uint32_t request_index_field(const Napi::Object& o) {
  const int32_t ri = int_field(o, "requestIndex", 0);
  IRO_EXPECT(ri >= 0, "requestIndex must be >= 0");
  return static_cast<uint32_t>(ri);
}

// A thread-safe function with no JS callback of its own: the scheduler thread settles a request's
// promise through it.
inline std::shared_ptr<Napi::ThreadSafeFunction> settle_channel(Napi::Env env, const char* name) {
  return std::make_shared<Napi::ThreadSafeFunction>(
      Napi::ThreadSafeFunction::New(env, Napi::Function::New(env, [](const Napi::CallbackInfo&) {}), name, 0, 1));
}

// Called from the scheduler's completion callback: on the JS thread (through `channel`), rejects
// the request's promise with the native error, or resolves it with to_js(result).
using ResultToJs = std::function<Napi::Value(Napi::Env, iro::engine::RequestResult&)>;
inline void settle_outcome(const Napi::ThreadSafeFunction& channel, std::shared_ptr<Napi::Promise::Deferred> deferred,
                           iro::engine::RequestOutcome&& outcome, ResultToJs to_js) {
  post_to_js(channel, std::move(outcome),
             [deferred = std::move(deferred), to_js = std::move(to_js)](Napi::Env env, Napi::Function, iro::engine::RequestOutcome& o) {
               if (!o.error_code.empty()) {
                 deferred->Reject(make_error(env, o.error_code, o.error_message).Value());
                 return;
               }
               try {
                 deferred->Resolve(to_js(env, o.result));
               } catch (const Napi::Error& e) {
                 deferred->Reject(e.Value());
               }
             });
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
  j.Set("tokens", to_typed_array(env, c.tokens));
  j.Set("logprobs", to_typed_array(env, c.logprobs));
  j.Set("text", c.text);
  j.Set("finishReason", iro::engine::finish_reason_name(c.reason));
  return j;
}

void register_decode(Napi::Env env, Napi::Object exports);

}  // namespace iro::napi::engine
