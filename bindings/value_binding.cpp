// N-API surface of the value area: value files, training (off the JS thread, progress, cancel),
// evaluation, featurizing and scoring. Argument checks and conversions only; the work is in
// native/value.
#include <atomic>
#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "bindings/modules.h"
#include "bindings/napi_util.h"
#include "bindings/value_handle.h"
#include "native/llama/vocab_fingerprint.h"
#include "native/value/value_eval.h"
#include "native/value/value_file.h"
#include "native/value/value_scoring.h"
#include "native/value/value_trainer.h"

namespace iro::napi {
namespace {

using value::ValueModel;

// A JS handle owns a box; dispose empties it, the finalizer deletes it. Work in flight keeps its
// own shared_ptr, so disposing during training or saving is safe.
struct ModelBox {
  std::shared_ptr<const ValueModel> model;
};

Napi::Value wrap_model(Napi::Env env, std::shared_ptr<const ValueModel> m) {
  return Napi::External<ModelBox>::New(env, new ModelBox{std::move(m)}, [](Napi::Env, ModelBox* b) { delete b; });
}

ModelBox* box_arg(const Napi::Value& v, const char* name) {
  IRO_EXPECT(v.IsExternal(), std::string(name) + " must be a value-function handle");
  return v.As<Napi::External<ModelBox>>().Data();
}

std::shared_ptr<const ValueModel> model_arg(const Napi::Value& v, const char* name) {
  ModelBox* b = box_arg(v, name);
  if (!b->model) throw iro::Error(codes::kDisposed, "this value function has been disposed");
  return b->model;
}

int64_t int_field(const Napi::Object& o, const char* key, int64_t fallback, int64_t lo, int64_t hi) {
  const double v = number_field(o, key, static_cast<double>(fallback));
  IRO_EXPECT(std::isfinite(v) && v == std::floor(v) && v >= static_cast<double>(lo) && v <= static_cast<double>(hi),
         std::string(key) + " must be an integer between " + std::to_string(lo) + " and " + std::to_string(hi));
  return static_cast<int64_t>(v);
}

template <typename T>
std::vector<T> array_field(const Napi::Object& o, const char* key, bool required) {
  Napi::Value v = o.Get(key);
  if (!required && (v.IsUndefined() || v.IsNull())) return {};
  return typed_vector<T>(v, key);
}

void read_rows(const Napi::Object& o, std::vector<int32_t>& po, std::vector<int32_t>& pt, std::vector<int32_t>& ro,
               std::vector<int32_t>& rt, std::vector<uint8_t>& ended, std::vector<float>& dense, int32_t& d_dense) {
  po = array_field<int32_t>(o, "promptOffsets", true);
  pt = array_field<int32_t>(o, "promptTokens", true);
  ro = array_field<int32_t>(o, "responseOffsets", true);
  rt = array_field<int32_t>(o, "responseTokens", true);
  ended = array_field<uint8_t>(o, "ended", true);
  dense = array_field<float>(o, "dense", false);
  d_dense = static_cast<int32_t>(int_field(o, "denseWidth", 0, 0, value::ValueLimits::kMaxDense));
}

value::ValueDataset dataset_arg(const Napi::Object& o) {
  value::ValueDataset d;
  read_rows(o, d.prompt_offsets, d.prompt_tokens, d.response_offsets, d.response_tokens, d.ended, d.dense, d.d_dense);
  d.rewards = array_field<float>(o, "rewards", true);
  d.weights = array_field<float>(o, "weights", true);
  return d;
}

value::StateBatch states_arg(const Napi::Object& o) {
  value::StateBatch b;
  read_rows(o, b.prompt_offsets, b.prompt_tokens, b.response_offsets, b.response_tokens, b.ended, b.dense, b.d_dense);
  return b;
}

value::FeaturizerConfig featurizer_arg(const Napi::Object& o) {
  value::FeaturizerConfig c;
  c.seed = static_cast<uint32_t>(int_field(o, "seed", 0, 0, 0xffffffffLL));
  c.ngram_max = static_cast<int32_t>(int_field(o, "ngramMax", c.ngram_max, 1, 3));
  c.prompt_window = static_cast<int32_t>(int_field(o, "promptWindow", c.prompt_window, 0, 64));
  c.position_buckets = static_cast<int32_t>(int_field(o, "positionBuckets", c.position_buckets, 1, 64));
  Napi::Value p = o.Get("pooling");
  if (!p.IsUndefined()) {
    IRO_EXPECT(p.IsString(), "featurizer pooling must be \"sum\", \"sqrt\" or \"mean\"");
    const std::string s = p.As<Napi::String>().Utf8Value();
    IRO_EXPECT(s == "sum" || s == "sqrt" || s == "mean", "featurizer pooling must be \"sum\", \"sqrt\" or \"mean\" (got \"" + s + "\")");
    c.pooling = s == "sum" ? 0 : s == "sqrt" ? 1 : 2;
  }
  return c;
}

Napi::Object featurizer_object(Napi::Env env, const value::FeaturizerConfig& c) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("seed", c.seed);
  o.Set("ngramMax", c.ngram_max);
  o.Set("promptWindow", c.prompt_window);
  o.Set("positionBuckets", c.position_buckets);
  o.Set("pooling", c.pooling == 0 ? "sum" : c.pooling == 1 ? "sqrt" : "mean");
  return o;
}

// valueVocabOfModel(path): Promise<{ size, fingerprint }>
Napi::Value VocabOfModel(const Napi::CallbackInfo& info) {
  return guard(info.Env(), [&]() -> Napi::Value {
    const std::string path = string_arg(info, 0, "path");
    return PromiseWorker<VocabFingerprint>::Start(
        info.Env(), [path] { return vocab_fingerprint_from_gguf(path); },
        [](Napi::Env env, VocabFingerprint& v) -> Napi::Value { return vocab_to_js(env, v.n_tokens, v.hex); });
  });
}

// valueLoad(path): Promise<handle>
Napi::Value Load(const Napi::CallbackInfo& info) {
  return guard(info.Env(), [&]() -> Napi::Value {
    const std::string path = string_arg(info, 0, "path");
    return PromiseWorker<std::shared_ptr<const ValueModel>>::Start(
        info.Env(), [path] { return std::make_shared<const ValueModel>(value::load_value_file(path)); },
        [](Napi::Env env, std::shared_ptr<const ValueModel>& m) { return wrap_model(env, m); });
  });
}

// valueSave(handle, path): Promise<void>
Napi::Value Save(const Napi::CallbackInfo& info) {
  return guard(info.Env(), [&]() -> Napi::Value {
    auto m = model_arg(info[0], "handle");
    const std::string path = string_arg(info, 1, "path");
    return PromiseWorker<bool>::Start(
        info.Env(), [m, path] { value::save_value_file(*m, path); return true; },
        [](Napi::Env env, bool&) { return env.Undefined(); });
  });
}

// valueInfo(handle): metadata object
Napi::Value Info(const Napi::CallbackInfo& info) {
  return guard(info.Env(), [&]() -> Napi::Value {
    auto m = model_arg(info[0], "handle");
    Napi::Env env = info.Env();
    Napi::Object o = Napi::Object::New(env);
    o.Set("nBuckets", m->dims.n_buckets);
    o.Set("embeddingWidth", m->dims.d);
    o.Set("hiddenWidth", m->dims.hidden);
    o.Set("denseWidth", m->dims.d_dense);
    o.Set("featurizer", featurizer_object(env, m->featurizer));
    o.Set("beta", m->meta.beta);
    o.Set("iteration", m->meta.iteration);
    o.Set("vocab", vocab_to_js(env, m->meta.vocab_size, m->meta.vocab_fingerprint));
    const auto& s = m->meta.stats;
    Napi::Object st = Napi::Object::New(env);
    st.Set("epochs", s.epochs);
    st.Set("bestEpoch", s.best_epoch);
    st.Set("trainMse", s.train_mse);
    st.Set("heldOutMse", s.val_mse);
    st.Set("seed", s.seed);
    st.Set("prefixStride", s.prefix_stride);
    st.Set("rows", static_cast<double>(s.rows));
    st.Set("states", static_cast<double>(s.states));
    st.Set("heldOutRows", static_cast<double>(s.val_rows));
    o.Set("stats", st);
    o.Set("reportJson", m->meta.metrics_json);
    o.Set("parameterCount", static_cast<double>(m->E.size() + m->P.size() + m->b0.size() + m->W1.size() + m->b1.size() +
                                                m->w2.size() + 1));
    return o;
  });
}

// valueDispose(handle)
Napi::Value Dispose(const Napi::CallbackInfo& info) {
  return guard(info.Env(), [&]() -> Napi::Value {
    box_arg(info[0], "handle")->model.reset();
    return info.Env().Undefined();
  });
}

// valueSetMeta(handle, { beta?, iteration? }): a new handle sharing nothing mutable with the old.
Napi::Value WithMeta(const Napi::CallbackInfo& info) {
  return guard(info.Env(), [&]() -> Napi::Value {
    auto m = model_arg(info[0], "handle");
    Napi::Object o = object_arg(info, 1, "meta");
    auto copy = std::make_shared<ValueModel>(*m);
    const double beta = number_field(o, "beta", copy->meta.beta);
    IRO_EXPECT(std::isfinite(beta) && beta > 0, "beta must be a positive number");
    copy->meta.beta = static_cast<float>(beta);
    copy->meta.iteration = static_cast<uint32_t>(int_field(o, "iteration", copy->meta.iteration, 0, 0xffffffffLL));
    return wrap_model(info.Env(), std::move(copy));
  });
}

struct TrainOut {
  std::shared_ptr<const ValueModel> model;
  std::string report;
};

// valueTrain(dataset, options, onProgress?): { promise: Promise<{ handle, report }>, cancel(): void }
Napi::Value Train(const Napi::CallbackInfo& info) {
  return guard(info.Env(), [&]() -> Napi::Value {
    Napi::Env env = info.Env();
    auto data = std::make_shared<value::ValueDataset>(dataset_arg(object_arg(info, 0, "dataset")));
    Napi::Object o = object_arg(info, 1, "options");
    value::TrainOptions opt;
    opt.dims.n_buckets = static_cast<int32_t>(int_field(o, "nBuckets", 1 << 18, 1, value::ValueLimits::kMaxBuckets));
    opt.dims.d = static_cast<int32_t>(int_field(o, "embeddingWidth", 32, 1, value::ValueLimits::kMaxWidth));
    opt.dims.hidden = static_cast<int32_t>(int_field(o, "hiddenWidth", 64, 1, value::ValueLimits::kMaxHidden));
    opt.dims.d_dense = data->d_dense;
    Napi::Value fv = o.Get("featurizer");
    if (fv.IsObject()) opt.featurizer = featurizer_arg(fv.As<Napi::Object>());
    opt.prefix_stride = static_cast<int32_t>(int_field(o, "prefixStride", 1, 1, 1 << 20));
    opt.max_epochs = static_cast<int32_t>(int_field(o, "maxEpochs", 20, 0, 100000));
    opt.batch_rows = static_cast<int32_t>(int_field(o, "batchSize", 32, 1, 1 << 20));
    opt.lr = static_cast<float>(number_field(o, "learningRate", opt.lr));
    opt.weight_decay = static_cast<float>(number_field(o, "weightDecay", opt.weight_decay));
    opt.validation_fraction = static_cast<float>(number_field(o, "validationFraction", opt.validation_fraction));
    opt.patience = static_cast<int32_t>(int_field(o, "patience", 3, 1, 100000));
    opt.seed = static_cast<uint32_t>(int_field(o, "seed", 0, 0, 0xffffffffLL));
    opt.threads = static_cast<int>(int_field(o, "threads", 1, 1, 1024));
    opt.beta = static_cast<float>(number_field(o, "beta", 1.0));
    opt.iteration = static_cast<uint32_t>(int_field(o, "iteration", 0, 0, 0xffffffffLL));
    opt.vocab_size = static_cast<int32_t>(int_field(o, "vocabSize", 0, 1, 0x7fffffffLL));
    Napi::Value fp = o.Get("vocabFingerprint");
    IRO_EXPECT(fp.IsString(), "vocabFingerprint must be a string");
    opt.vocab_fingerprint = fp.As<Napi::String>().Utf8Value();
    Napi::Value init = o.Get("init");
    if (!init.IsUndefined() && !init.IsNull()) opt.init_model = model_arg(init, "init");
    opt.validate();

    auto cancel = std::make_shared<std::atomic<bool>>(false);
    std::shared_ptr<Napi::ThreadSafeFunction> tsfn = optional_callback(info, 2, "iro-value-progress");
    auto work = [data, opt, cancel, tsfn]() -> TrainOut {
      ReleaseOnExit release{tsfn};
      value::ProgressFn progress;
      if (tsfn) {
        progress = [tsfn](const value::EpochProgress& p) {
          post_to_js(*tsfn, p, [](Napi::Env env, Napi::Function fn, value::EpochProgress& q) {
            Napi::Object o = Napi::Object::New(env);
            o.Set("epoch", q.epoch);
            o.Set("maxEpochs", q.max_epochs);
            o.Set("bestEpoch", q.best_epoch);
            o.Set("trainMse", q.train_mse);
            o.Set("heldOutMse", q.val_mse);
            o.Set("statesPerSecond", q.states_per_second);
            fn.Call({o});
          });
        };
      }
      value::TrainResult r = value::train_value(*data, opt, progress, cancel.get());
      return TrainOut{std::make_shared<const ValueModel>(std::move(r.model)), std::move(r.report_json)};
    };
    Napi::Promise promise = PromiseWorker<TrainOut>::Start(env, work, [](Napi::Env env, TrainOut& out) -> Napi::Value {
      Napi::Object o = Napi::Object::New(env);
      o.Set("handle", wrap_model(env, out.model));
      o.Set("report", out.report);
      return o;
    });
    return cancellable(env, promise, cancel);
  });
}

// valueEvaluate(handle, dataset, { prefixStride, threads, vocabSize }): Promise<string (JSON)>
Napi::Value Evaluate(const Napi::CallbackInfo& info) {
  return guard(info.Env(), [&]() -> Napi::Value {
    auto m = model_arg(info[0], "handle");
    auto data = std::make_shared<value::ValueDataset>(dataset_arg(object_arg(info, 1, "dataset")));
    Napi::Object o = object_arg(info, 2, "options");
    const int32_t stride = static_cast<int32_t>(int_field(o, "prefixStride", 1, 1, 1 << 20));
    const int threads = static_cast<int>(int_field(o, "threads", 1, 1, 1024));
    IRO_EXPECT(data->d_dense == m->dims.d_dense, "the dataset's dense width (" + std::to_string(data->d_dense) +
                                                 ") differs from the value function's (" + std::to_string(m->dims.d_dense) + ")");
    return PromiseWorker<std::string>::Start(
        info.Env(),
        [m, data, stride, threads] {
          data->validate(m->meta.vocab_size);
          const value::Featurizer f(m->featurizer);
          const auto ix = value::build_prefix_index(*data, f, stride, threads);
          std::vector<int32_t> rows(data->rows());
          for (int32_t r = 0; r < data->rows(); ++r) rows[r] = r;
          return value::evaluate(*m, *data, ix, rows, threads).to_json();
        },
        [](Napi::Env env, std::string& s) -> Napi::Value { return Napi::String::New(env, s); });
  });
}

// valueFeaturize(featurizerConfig, states): { offsets: Int32Array, ids: Uint32Array, weights: Float32Array }
Napi::Value Featurize(const Napi::CallbackInfo& info) {
  return guard(info.Env(), [&]() -> Napi::Value {
    const value::Featurizer f(featurizer_arg(object_arg(info, 0, "featurizer")));
    const value::StateBatch b = states_arg(object_arg(info, 1, "states"));
    b.validate(0);
    const value::SparseRows rows = value::featurize_states(f, b);
    Napi::Env env = info.Env();
    Napi::Object o = Napi::Object::New(env);
    o.Set("offsets", to_typed_array(env, rows.offsets));
    o.Set("ids", to_typed_array(env, rows.ids));
    o.Set("weights", to_typed_array(env, rows.weights));
    return o;
  });
}

// valueScore(handles[], betas: Float32Array, states, threads): { values: Float32Array (state-major), combined }
Napi::Value Score(const Napi::CallbackInfo& info) {
  return guard(info.Env(), [&]() -> Napi::Value {
    IRO_EXPECT(info.Length() > 0 && info[0].IsArray(), "handles must be an array");
    Napi::Array hs = info[0].As<Napi::Array>();
    const uint32_t n = hs.Length();
    std::vector<std::shared_ptr<const ValueModel>> keep;
    std::vector<const ValueModel*> models;
    for (uint32_t i = 0; i < n; ++i) {
      keep.push_back(model_arg(hs.Get(i), "handle"));
      models.push_back(keep.back().get());
    }
    const std::vector<float> betas = typed_vector<float>(info[1], "betas");
    const value::StateBatch b = states_arg(object_arg(info, 2, "states"));
    const int threads = info.Length() > 3 && info[3].IsNumber() ? info[3].As<Napi::Number>().Int32Value() : 1;
    IRO_EXPECT(threads >= 1 && threads <= 1024, "threads must be between 1 and 1024");
    b.validate(models.empty() ? 0 : models[0]->meta.vocab_size);
    const value::ScoreOutput out = value::score_states(models, betas, b, threads);
    Napi::Env env = info.Env();
    Napi::Object o = Napi::Object::New(env);
    o.Set("values", to_typed_array(env, out.values));
    o.Set("combined", to_typed_array(env, out.combined));
    return o;
  });
}

}  // namespace

std::shared_ptr<const ValueModel> value_model_from_handle(const Napi::Value& v, const char* name) { return model_arg(v, name); }

void register_value(Napi::Env env, Napi::Object exports) {
  export_functions(env, exports, {
      {"valueVocabOfModel", VocabOfModel},
      {"valueLoad", Load},
      {"valueSave", Save},
      {"valueInfo", Info},
      {"valueDispose", Dispose},
      {"valueWithMeta", WithMeta},
      {"valueTrain", Train},
      {"valueEvaluate", Evaluate},
      {"valueFeaturize", Featurize},
      {"valueScore", Score},
  });
}

}  // namespace iro::napi
