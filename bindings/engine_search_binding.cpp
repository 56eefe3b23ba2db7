// N-API surface of value-guided search: submit one prompt's search to the engine's scheduler with
// the search policy (native/search); the promise settles from the scheduler thread through a
// thread-safe function, and onChunk streams the best beam after each selection.
#include <unordered_map>

#include "bindings/engine_binding.h"
#include "bindings/modules.h"
#include "bindings/value_handle.h"
#include "native/search/search_options.h"
#include "native/value/value_file.h"

namespace iro::napi::engine {
namespace {

using iro::engine::CandidateResult;
using iro::engine::RequestOutcome;
using search::SearchReport;

// Value functions arrive as ValueFunction handles (shared, nothing copied) or value-file paths.
std::shared_ptr<const iro::value::ValueModel> value_model_of(const Napi::Value& v, size_t i) {
  const std::string name = "values[" + std::to_string(i) + "]";
  if (v.IsExternal()) return value_model_from_handle(v, name.c_str());
  IRO_EXPECT(v.IsString(), name + " must be a ValueFunction or a value-file path");
  return std::make_shared<const iro::value::ValueModel>(iro::value::load_value_file(v.As<Napi::String>().Utf8Value()));
}

std::string str_field(const Napi::Object& o, const char* key, const char* fallback) {
  Napi::Value v = o.Get(key);
  if (v.IsUndefined() || v.IsNull()) return fallback;
  IRO_EXPECT(v.IsString(), std::string(key) + " must be a string");
  return v.As<Napi::String>().Utf8Value();
}

struct SearchDone {
  RequestOutcome outcome;
  std::shared_ptr<SearchReport> report;
};

struct ChunkData {
  int32_t chunk = 0;
  int32_t index = -1;
  std::vector<int32_t> tokens;
  std::string text;
  double score = 0;
  int32_t live = 0;
  bool final = false;
};

Napi::Value result_to_js(Napi::Env env, SearchDone& d) {
  auto& r = d.outcome.result;
  const SearchReport& rep = *d.report;
  Napi::Object o = Napi::Object::New(env);
  Napi::Array cs = Napi::Array::New(env, r.candidates.size());
  for (size_t i = 0; i < r.candidates.size(); ++i) {
    CandidateResult& c = r.candidates[i];
    Napi::Object j = candidate_to_js(env, c);
    j.Set("value", c.score);
    auto it = rep.values.find(c.index);
    j.Set("values", to_float32_array(env, it == rep.values.end() ? std::vector<float>{} : it->second));
    cs.Set(i, j);
  }
  o.Set("candidates", cs);
  o.Set("ranking", to_int32_array(env, rep.ranking));
  o.Set("order", to_int32_array(env, rep.order));
  Napi::Object st = stats_to_js(env, r.stats);
  st.Set("valueEvaluations", static_cast<double>(rep.value_evaluations));
  st.Set("chunks", rep.chunks);
  st.Set("peakKvCells", static_cast<double>(rep.peak_kv_cells));
  Napi::Object t = st.Get("time").As<Napi::Object>();
  t.Set("featurizeScoreMs", rep.featurize_score_ms);
  t.Set("selectMs", rep.select_ms);
  o.Set("stats", st);
  return o;
}

// engineSearchSubmit(handle, { prompt: Int32Array, w, k, l, maxTokens, temperature, topK, topP, minP,
//   strategy, selectionTemperature, rerank, seed, requestIndex, betas: Float32Array }, values: string[],
//   onChunk?: (chunk) => void) -> { id, promise }
Napi::Value SearchSubmit(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guard(env, [&]() -> Napi::Value {
    BoxRef box = box_of(info[0]);
    Napi::Object o = object_arg(info, 1, "request");
    search::SearchOptions so;
    so.w = opt_int(o, "w", 4);
    so.k = opt_int(o, "k", 4);
    so.l = opt_int(o, "l", 8);
    so.max_tokens = opt_int(o, "maxTokens", 64);
    so.sampling.temperature = static_cast<float>(opt_number(o, "temperature", 0.7));
    so.sampling.top_k = opt_int(o, "topK", 50);
    so.sampling.top_p = static_cast<float>(opt_number(o, "topP", 1.0));
    so.sampling.min_p = static_cast<float>(opt_number(o, "minP", 0.0));
    so.strategy = search::parse_strategy(str_field(o, "strategy", "diverse"));
    so.selection_temperature = static_cast<float>(opt_number(o, "selectionTemperature", 1.0));
    so.rerank = search::parse_rerank(str_field(o, "rerank", "value"));
    const double seed = opt_number(o, "seed", 0);
    IRO_EXPECT(std::isfinite(seed) && std::floor(seed) == seed && seed >= 0 && seed <= 9007199254740991.0, "seed must be a non-negative integer");
    so.seed = static_cast<uint64_t>(seed);
    const int32_t ri = opt_int(o, "requestIndex", 0);
    IRO_EXPECT(ri >= 0, "requestIndex must be >= 0");
    so.request_index = static_cast<uint32_t>(ri);
    so.threads = std::max(1, box->threads);
    std::vector<search::ValueRef> values;
    if (info.Length() > 2 && !info[2].IsUndefined()) {
      IRO_EXPECT(info[2].IsArray(), "values must be an array");
      Napi::Array a = info[2].As<Napi::Array>();
      for (uint32_t i = 0; i < a.Length(); ++i) values.push_back(value_model_of(a.Get(i), i));
    }
    Napi::Value betas_v = o.Get("betas");
    if (betas_v.IsUndefined()) {
      so.betas.assign(values.size(), 1.0f);
    } else {
      auto b = typed_array<float>(betas_v, "betas");
      so.betas.assign(b.Data(), b.Data() + b.ElementLength());
    }
    std::vector<int32_t> prompt = tokens_arg(o.Get("prompt"), "prompt");
    search::SearchLimits lim;
    lim.n_vocab = box->model->n_vocab();
    lim.vocab_fingerprint = box->model->fingerprint().hex;
    lim.n_embd = box->model->n_embd();
    lim.n_seq_max = box->scheduler->context().n_seq_max();
    lim.n_ctx = box->scheduler->context().n_ctx();
    search::validate_search(so, values, lim, static_cast<int32_t>(prompt.size()));

    auto report = std::make_shared<SearchReport>();
    auto deferred = std::make_shared<Napi::Promise::Deferred>(Napi::Promise::Deferred::New(env));
    auto tsfn = std::make_shared<Napi::ThreadSafeFunction>(Napi::ThreadSafeFunction::New(
        env, Napi::Function::New(env, [](const Napi::CallbackInfo&) {}), "iro-engine-search", 0, 1));
    search::ChunkCallback on_chunk;
    std::shared_ptr<Napi::ThreadSafeFunction> chunk_fn;
    if (info.Length() > 3 && info[3].IsFunction()) {
      chunk_fn = std::make_shared<Napi::ThreadSafeFunction>(
          Napi::ThreadSafeFunction::New(env, info[3].As<Napi::Function>(), "iro-engine-search-chunk", 0, 1));
      std::shared_ptr<iro::engine::Model> model = box->model;
      on_chunk = [chunk_fn, model](const search::ChunkEvent& ev) {
        auto* d = new ChunkData;
        d->chunk = ev.chunk;
        d->index = ev.best_index;
        if (ev.tokens) d->tokens = *ev.tokens;
        d->text = model->detokenize(d->tokens, false);
        d->score = ev.score;
        d->live = ev.live;
        d->final = ev.final;
        const napi_status st = chunk_fn->NonBlockingCall(d, [](Napi::Env env, Napi::Function fn, ChunkData* d) {
          std::unique_ptr<ChunkData> own(d);
          Napi::Object o = Napi::Object::New(env);
          o.Set("chunk", d->chunk);
          o.Set("index", d->index);
          o.Set("tokens", to_int32_array(env, d->tokens));
          o.Set("text", d->text);
          o.Set("score", d->score);
          o.Set("live", d->live);
          o.Set("final", d->final);
          try {
            fn.Call({o});
          } catch (...) {
            // A throwing onChunk must not break the search; lib/search.ts reports it.
          }
        });
        if (st != napi_ok) delete d;
      };
    }
    auto done = [tsfn, deferred, report, chunk_fn](RequestOutcome&& outcome) {
      auto* data = new SearchDone{std::move(outcome), report};
      // Settle through the chunk channel when there is one: one queue keeps every onChunk call
      // ahead of the promise's resolution.
      auto& channel = chunk_fn ? *chunk_fn : *tsfn;
      const napi_status st = channel.NonBlockingCall([deferred, data](Napi::Env env, Napi::Function) {
        std::unique_ptr<SearchDone> own(data);
        if (!own->outcome.error_code.empty()) {
          deferred->Reject(make_error(env, own->outcome.error_code, own->outcome.error_message).Value());
          return;
        }
        try {
          deferred->Resolve(result_to_js(env, *own));
        } catch (const Napi::Error& e) {
          deferred->Reject(e.Value());
        }
      });
      if (st != napi_ok) delete data;
      if (chunk_fn) chunk_fn->Release();
      tsfn->Release();
    };
    auto spec = search::make_search_spec(so, values, std::move(prompt), true);
    uint64_t id = 0;
    try {
      auto policy = search::make_value_guided_policy(so, values, lim, report, std::move(on_chunk));
      const Napi::Value hold = o.Get("hold");
      id = box->scheduler->submit(std::move(spec), std::move(policy), done, hold.IsBoolean() && hold.As<Napi::Boolean>().Value());
    } catch (...) {
      if (chunk_fn) chunk_fn->Release();
      tsfn->Release();
      throw;
    }
    Napi::Object out = Napi::Object::New(env);
    out.Set("id", static_cast<double>(id));
    out.Set("promise", deferred->Promise());
    return out;
  });
}

}  // namespace

void register_search(Napi::Env env, Napi::Object exports) {
  exports.Set("engineSearchSubmit", Napi::Function::New(env, SearchSubmit, "engineSearchSubmit"));
}

}  // namespace iro::napi::engine
