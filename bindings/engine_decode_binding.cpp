// N-API surface of decoding: submit a request to the scheduler (the promise settles from the
// scheduler thread through a thread-safe function), abort it, read stats, and the test-only
// reference paths.
#include "bindings/engine_binding.h"
#include "native/engine/reference.h"
#include "native/engine/sampling_policy.h"

namespace iro::napi::engine {
namespace {

using iro::engine::CandidateResult;
using iro::engine::RequestOutcome;

Napi::Value result_to_js(Napi::Env env, iro::engine::RequestResult& r) {
  Napi::Object o = Napi::Object::New(env);
  Napi::Array cs = Napi::Array::New(env, r.candidates.size());
  for (size_t i = 0; i < r.candidates.size(); ++i) {
    CandidateResult& c = r.candidates[i];
    Napi::Object j = candidate_to_js(env, c);
    if (!c.hidden.empty()) j.Set("hidden", to_typed_array(env, c.hidden));
    cs.Set(i, j);
  }
  o.Set("candidates", cs);
  o.Set("stats", stats_to_js(env, r.stats));
  return o;
}

// engineSubmit(handle, { prompt: Int32Array, n, maxTokens, temperature, topK, topP, minP, seed,
//   requestIndex, hiddenStates, hold }) -> { id, promise }   (hold: see Scheduler::submit)
Napi::Value Submit(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guard(env, [&]() -> Napi::Value {
    BoxRef box = box_of(info[0]);
    Napi::Object o = object_arg(info, 1, "request");
    iro::engine::RequestSpec spec;
    spec.prompt = typed_vector<int32_t>(o.Get("prompt"), "prompt");
    const int32_t n = int_field(o, "n", 1);
    IRO_EXPECT(n >= 1, "n must be an integer >= 1");
    spec.max_tokens = int_field(o, "maxTokens", 64);
    spec.sampling = sampling_fields(o);
    spec.seed = seed_field(o, "seed");
    spec.request_index = request_index_field(o);
    spec.hidden_states = bool_field(o, "hiddenStates", false);
    spec.detokenize = bool_field(o, "detokenize", true);

    auto deferred = std::make_shared<Napi::Promise::Deferred>(Napi::Promise::Deferred::New(env));
    auto tsfn = settle_channel(env, "iro-engine-decode");
    auto done = [tsfn, deferred](RequestOutcome&& outcome) {
      settle_outcome(*tsfn, deferred, std::move(outcome), result_to_js);
      tsfn->Release();
    };
    uint64_t id = 0;
    try {
      id = box->scheduler->submit(std::move(spec), std::make_unique<iro::engine::SamplingPolicy>(n), done, bool_field(o, "hold", false));
    } catch (...) {
      tsfn->Release();
      throw;
    }
    Napi::Object out = Napi::Object::New(env);
    out.Set("id", static_cast<double>(id));
    out.Set("promise", deferred->Promise());
    return out;
  });
}

// engineRelease(handle): admits the requests submitted with hold (see Scheduler::submit).
Napi::Value Release(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guard(env, [&]() -> Napi::Value {
    box_of(info[0])->scheduler->release();
    return env.Undefined();
  });
}

Napi::Value Abort(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guard(env, [&]() -> Napi::Value {
    IRO_EXPECT(info.Length() > 1 && info[1].IsNumber(), "request id expected");
    // Aborting after dispose is a no-op: the request already completed with DISPOSED.
    try {
      BoxRef box = box_of(info[0]);
      box->scheduler->abort(static_cast<uint64_t>(info[1].As<Napi::Number>().DoubleValue()));
    } catch (const iro::Error& e) {
      if (e.code() != codes::kDisposed) throw;
    }
    return env.Undefined();
  });
}

Napi::Value Stats(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guard(env, [&]() -> Napi::Value {
    BoxRef box = box_of(info[0]);
    const auto s = box->scheduler->stats();
    Napi::Object o = Napi::Object::New(env);
    o.Set("kvCellsUsed", static_cast<double>(s.kv.cells_used));
    o.Set("kvCellsTotal", static_cast<double>(s.kv.cells_total));
    o.Set("liveSequences", s.kv.live_sequences);
    o.Set("freeSequences", s.kv.free_sequences);
    o.Set("forks", static_cast<double>(s.kv.forks));
    o.Set("prunes", static_cast<double>(s.kv.prunes));
    o.Set("steps", static_cast<double>(s.steps));
    o.Set("queued", s.queued);
    o.Set("active", s.active);
    return o;
  });
}

// Test-only: llama.cpp's own greedy sampler in a fresh context. -> Promise<Int32Array>
Napi::Value ReferenceGreedy(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guard(env, [&]() -> Napi::Value {
    BoxRef box = box_of(info[0]);
    auto prompt = typed_vector<int32_t>(info[1], "prompt");
    IRO_EXPECT(info.Length() > 2 && info[2].IsNumber(), "maxTokens must be a number");
    const int32_t max_tokens = info[2].As<Napi::Number>().Int32Value();
    auto model = box->model;
    const int32_t threads = box->threads;
    return PromiseWorker<std::vector<int32_t>>::Start(
        env, [model, prompt, max_tokens, threads]() { return iro::engine::reference_greedy(*model, prompt, max_tokens, threads); },
        [](Napi::Env env, std::vector<int32_t>& v) -> Napi::Value { return to_typed_array(env, v); });
  });
}

// Test-only: logits after re-evaluating `tokens` in a fresh context. -> Promise<Float32Array>
Napi::Value ReferenceLogits(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guard(env, [&]() -> Napi::Value {
    BoxRef box = box_of(info[0]);
    auto tokens = typed_vector<int32_t>(info[1], "tokens");
    auto model = box->model;
    const int32_t threads = box->threads;
    return PromiseWorker<std::vector<float>>::Start(
        env, [model, tokens, threads]() { return iro::engine::reference_logits(*model, tokens, threads); },
        [](Napi::Env env, std::vector<float>& v) -> Napi::Value { return to_typed_array(env, v); });
  });
}

}  // namespace

void register_decode(Napi::Env env, Napi::Object exports) {
  export_functions(env, exports, {
      {"engineSubmit", Submit},
      {"engineRelease", Release},
      {"engineAbort", Abort},
      {"engineStats", Stats},
      {"engineReferenceGreedy", ReferenceGreedy},
      {"engineReferenceLogits", ReferenceLogits},
  });
}

}  // namespace iro::napi::engine
