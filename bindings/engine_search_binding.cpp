// N-API surface of value-guided search: submit one prompt's search to the engine's scheduler with
// the search policy (native/search); the promise settles from the scheduler thread through a
// thread-safe function, and onChunk streams the best beam after each selection.
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

struct ChunkData {
  int32_t chunk = 0;
  int32_t index = -1;
  std::vector<int32_t> tokens;
  std::string text;
  double score = 0;
  int32_t live = 0;
  bool final = false;
};

Napi::Value result_to_js(Napi::Env env, iro::engine::RequestResult& r, const SearchReport& rep) {
  static const std::vector<float> kNoValues;
  Napi::Object o = Napi::Object::New(env);
  Napi::Array cs = Napi::Array::New(env, r.candidates.size());
  for (size_t i = 0; i < r.candidates.size(); ++i) {
    CandidateResult& c = r.candidates[i];
    Napi::Object j = candidate_to_js(env, c);
    j.Set("value", c.score);
    auto it = rep.values.find(c.index);
    j.Set("values", to_typed_array(env, it == rep.values.end() ? kNoValues : it->second));  // an lvalue either way: no copy
    cs.Set(i, j);
  }
  o.Set("candidates", cs);
  o.Set("ranking", to_typed_array(env, rep.ranking));
  o.Set("order", to_typed_array(env, rep.order));
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
    so.w = int_field(o, "w", 4);
    so.k = int_field(o, "k", 4);
    so.l = int_field(o, "l", 8);
    so.max_tokens = int_field(o, "maxTokens", 64);
    so.sampling = sampling_fields(o);
    so.strategy = search::parse_strategy(optional_string_field(o, "strategy", "diverse"));
    so.selection_temperature = static_cast<float>(number_field(o, "selectionTemperature", 1.0));
    so.rerank = search::parse_rerank(optional_string_field(o, "rerank", "value"));
    so.seed = seed_field(o, "seed");
    so.request_index = request_index_field(o);
    so.threads = std::max(1, box->threads);
    std::vector<search::ValueRef> values;
    if (info.Length() > 2 && !info[2].IsUndefined()) {
      IRO_EXPECT(info[2].IsArray(), "values must be an array");
      Napi::Array a = info[2].As<Napi::Array>();
      const uint32_t n = a.Length();
      for (uint32_t i = 0; i < n; ++i) values.push_back(value_model_of(a.Get(i), i));
    }
    Napi::Value betas_v = o.Get("betas");
    if (betas_v.IsUndefined()) {
      so.betas.assign(values.size(), 1.0f);
    } else {
      so.betas = typed_vector<float>(betas_v, "betas");
    }
    std::vector<int32_t> prompt = typed_vector<int32_t>(o.Get("prompt"), "prompt");
    search::SearchLimits lim;
    lim.n_vocab = box->model->n_vocab();
    lim.vocab_fingerprint = box->model->fingerprint().hex;
    lim.n_embd = box->model->n_embd();
    lim.n_seq_max = box->scheduler->context().n_seq_max();
    lim.n_ctx = box->scheduler->context().n_ctx();
    search::validate_search(so, values, lim, static_cast<int32_t>(prompt.size()));

    auto report = std::make_shared<SearchReport>();
    auto deferred = std::make_shared<Napi::Promise::Deferred>(Napi::Promise::Deferred::New(env));
    auto tsfn = settle_channel(env, "iro-engine-search");
    search::ChunkCallback on_chunk;
    std::shared_ptr<Napi::ThreadSafeFunction> chunk_fn = optional_callback(info, 3, "iro-engine-search-chunk");
    if (chunk_fn) {
      std::shared_ptr<iro::engine::Model> model = box->model;
      on_chunk = [chunk_fn, model](const search::ChunkEvent& ev) {
        ChunkData d;
        d.chunk = ev.chunk;
        d.index = ev.best_index;
        if (ev.tokens) d.tokens = *ev.tokens;
        d.text = model->detokenize(d.tokens, false);
        d.score = ev.score;
        d.live = ev.live;
        d.final = ev.final;
        post_to_js(*chunk_fn, std::move(d), [](Napi::Env env, Napi::Function fn, ChunkData& d) {
          Napi::Object o = Napi::Object::New(env);
          o.Set("chunk", d.chunk);
          o.Set("index", d.index);
          o.Set("tokens", to_typed_array(env, d.tokens));
          o.Set("text", d.text);
          o.Set("score", d.score);
          o.Set("live", d.live);
          o.Set("final", d.final);
          try {
            fn.Call({o});
          } catch (...) {
            // A throwing onChunk must not break the search; lib/search.ts reports it.
          }
        });
      };
    }
    auto done = [tsfn, deferred, report, chunk_fn](RequestOutcome&& outcome) {
      // Settle through the chunk channel when there is one: one queue keeps every onChunk call
      // ahead of the promise's resolution.
      settle_outcome(chunk_fn ? *chunk_fn : *tsfn, deferred, std::move(outcome),
                     [report](Napi::Env env, iro::engine::RequestResult& r) { return result_to_js(env, r, *report); });
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
  export_functions(env, exports, {{"engineSearchSubmit", SearchSubmit}});
}

}  // namespace iro::napi::engine
