// N-API surface of the forge pipeline: vocabulary learning and the full forge (vocabulary ->
// random init -> llama.cpp training -> saved model), run off the JS thread with progress events
// and cancellation.
#include <atomic>
#include <memory>

#include "bindings/forge_args.h"
#include "bindings/modules.h"
#include "bindings/napi_util.h"
#include "native/forge/forge_pipeline.h"

namespace iro::napi {
namespace {

forge::PieceLearnerOptions piece_options(const Napi::Object& o) {
  forge::PieceLearnerOptions p;
  p.max_pieces = int_field(o, "vocabSize", p.max_pieces);
  p.min_char_count = int_field(o, "minCharCount", p.min_char_count);
  p.min_pair_count = int_field(o, "minPairCount", p.min_pair_count);
  p.max_piece_chars = int_field(o, "maxPieceChars", p.max_piece_chars);
  return p;
}

forge::TrainOptions train_options(const Napi::Object& o) {
  forge::TrainOptions t;
  t.epochs = int_field(o, "epochs", t.epochs);
  t.n_ctx = int_field(o, "context", t.n_ctx);
  t.lr = static_cast<float>(number_field(o, "learningRate", t.lr));
  t.lr_min = static_cast<float>(number_field(o, "minLearningRate", std::min<double>(t.lr_min, t.lr)));
  t.weight_decay = static_cast<float>(number_field(o, "weightDecay", t.weight_decay));
  t.threads = int_field(o, "threads", t.threads);
  t.seed = seed_field(o, "seed");
  t.windows_per_chunk = int_field(o, "windowsPerChunk", t.windows_per_chunk);
  const double max_steps = number_field(o, "maxSteps", 0);
  IRO_EXPECT(std::isfinite(max_steps) && max_steps >= 0 && std::floor(max_steps) == max_steps, "maxSteps must be a non-negative integer");
  t.max_steps = static_cast<int64_t>(max_steps);
  return t;
}

Napi::Object progress_to_js(Napi::Env env, const forge::TrainProgress& p) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("phase", p.phase);
  o.Set("epoch", p.epoch);
  o.Set("epochs", p.epochs);
  o.Set("step", static_cast<double>(p.step));
  o.Set("steps", static_cast<double>(p.steps));
  o.Set("loss", p.loss);
  o.Set("seconds", p.seconds);
  o.Set("tokensPerSecond", p.tokens_per_second);
  return o;
}

Napi::Object report_to_js(Napi::Env env, const forge::ForgeReport& r) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("nVocab", r.n_vocab);
  o.Set("nMerges", r.n_merges);
  o.Set("nChars", r.n_chars);
  o.Set("nParams", static_cast<double>(r.n_params));
  o.Set("corpusTokens", static_cast<double>(r.corpus_tokens));
  o.Set("trainTokens", static_cast<double>(r.train_tokens));
  o.Set("heldOutTokens", static_cast<double>(r.val_tokens));
  o.Set("trainDocuments", static_cast<double>(r.train_documents));
  o.Set("heldOutDocuments", static_cast<double>(r.val_documents));
  o.Set("context", r.train.n_ctx);
  o.Set("trainWindows", static_cast<double>(r.train.train_windows));
  o.Set("heldOutWindows", static_cast<double>(r.train.val_windows));
  o.Set("steps", static_cast<double>(r.train.steps));
  o.Set("initialHeldOutLoss", r.train.initial_val_loss);
  Napi::Array epochs = Napi::Array::New(env, r.train.epochs.size());
  for (size_t i = 0; i < r.train.epochs.size(); ++i) {
    const auto& e = r.train.epochs[i];
    Napi::Object eo = Napi::Object::New(env);
    eo.Set("epoch", e.epoch);
    eo.Set("trainLoss", e.train_loss);
    eo.Set("heldOutLoss", e.val_loss);
    eo.Set("trainAccuracy", e.train_accuracy);
    eo.Set("heldOutAccuracy", e.val_accuracy);
    eo.Set("seconds", e.seconds);
    epochs.Set(i, eo);
  }
  o.Set("epochs", epochs);
  o.Set("trainSeconds", r.train.seconds);
  o.Set("tokensPerSecond", r.train.tokens_per_second);
  o.Set("vocabSeconds", r.seconds_vocab);
  o.Set("seconds", r.seconds_total);
  o.Set("fileBytes", static_cast<double>(r.file_bytes));
  return o;
}

// Runs the forge off the JS thread; progress events are queued to the JS callback.
class ForgeWorker : public Napi::AsyncProgressQueueWorker<forge::TrainProgress> {
 public:
  ForgeWorker(Napi::Env env, forge::ForgeSpec spec, Napi::Function on_progress, std::shared_ptr<std::atomic<bool>> cancel)
      : Napi::AsyncProgressQueueWorker<forge::TrainProgress>(env, "iro-forge"),
        deferred_(Napi::Promise::Deferred::New(env)),
        spec_(std::move(spec)),
        cancel_(std::move(cancel)) {
    if (!on_progress.IsEmpty()) progress_ = Napi::Persistent(on_progress);
  }
  Napi::Promise Promise() { return deferred_.Promise(); }

 protected:
  void Execute(const ExecutionProgress& progress) override {
    try {
      report_ = forge::run_forge(
          spec_, [&progress](const forge::TrainProgress& p) { progress.Send(&p, 1); },
          [this]() { return cancel_->load(); });
      ok_ = true;
    } catch (const iro::Error& e) {
      code_ = e.code();
      message_ = e.what();
    } catch (const std::bad_alloc&) {
      code_ = "OUT_OF_MEMORY";
      message_ = "iro-native ran out of memory while forging; reduce the model or the corpus";
    } catch (const std::exception& e) {
      code_ = "INTERNAL";
      message_ = std::string("internal error in the forge: ") + e.what();
    }
  }
  void OnProgress(const forge::TrainProgress* data, size_t count) override {
    if (progress_.IsEmpty()) return;
    Napi::Env env = Env();
    Napi::HandleScope scope(env);
    for (size_t i = 0; i < count; ++i) {
      try {
        progress_.Call({progress_to_js(env, data[i])});
      } catch (const Napi::Error&) {
        // A throwing progress callback must not break the forge.
      }
    }
  }
  void OnOK() override {
    Napi::Env env = Env();
    Napi::HandleScope scope(env);
    if (ok_) deferred_.Resolve(report_to_js(env, report_));
    else deferred_.Reject(make_error(env, code_, message_).Value());
  }
  void OnError(const Napi::Error& e) override { deferred_.Reject(e.Value()); }

 private:
  Napi::Promise::Deferred deferred_;
  forge::ForgeSpec spec_;
  std::shared_ptr<std::atomic<bool>> cancel_;
  Napi::FunctionReference progress_;
  forge::ForgeReport report_;
  bool ok_ = false;
  std::string code_, message_;
};

forge::ForgeSpec forge_spec(const Napi::CallbackInfo& info) {
  forge::ForgeSpec s;
  s.out_path = string_arg(info, 0, "out");
  s.documents = string_array(info[1], "documents");
  Napi::Object o = object_arg(info, 2, "options");
  s.dims = forge_dims(o);
  s.vocab = piece_options(o);
  s.train = train_options(o);
  s.val_fraction = static_cast<float>(number_field(o, "heldOut", s.val_fraction));
  s.seed = seed_field(o, "seed");
  s.init_std = static_cast<float>(number_field(o, "initStd", s.init_std));
  s.embd_std = static_cast<float>(number_field(o, "embdInitStd", s.embd_std));
  s.name = optional_string_field(o, "name", s.name);
  return s;
}

// forgeModel(out, documents, options, onProgress?) -> { promise, cancel() }
Napi::Value ForgeModel(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guard(env, [&]() -> Napi::Value {
    forge::ForgeSpec spec = forge_spec(info);
    forge::validate_forge_spec(spec);  // before any work
    Napi::Function cb;
    if (info.Length() > 3 && info[3].IsFunction()) cb = info[3].As<Napi::Function>();
    auto cancel = std::make_shared<std::atomic<bool>>(false);
    auto* worker = new ForgeWorker(env, std::move(spec), cb, cancel);
    Napi::Object job = cancellable(env, worker->Promise(), cancel);
    worker->Queue();
    return job;
  });
}

// forgeLearnVocab(documents, options) -> Promise<{ pieces, scores, nMerges, nChars }>
Napi::Value ForgeLearnVocab(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guard(env, [&]() -> Napi::Value {
    std::vector<std::string> docs = string_array(info[0], "documents");
    Napi::Object o = info.Length() > 1 && info[1].IsObject() ? info[1].As<Napi::Object>() : Napi::Object::New(env);
    forge::PieceLearnerOptions po = piece_options(o);
    forge::validate_corpus(docs);
    return PromiseWorker<forge::LearnedPieces>::Start(
        env, [docs = std::move(docs), po]() { return forge::learn_pieces(docs, po); },
        [](Napi::Env env, forge::LearnedPieces& lp) -> Napi::Value {
          Napi::Object r = Napi::Object::New(env);
          Napi::Array pieces = Napi::Array::New(env, lp.pieces.size());
          Napi::Array scores = Napi::Array::New(env, lp.scores.size());
          for (size_t i = 0; i < lp.pieces.size(); ++i) {
            pieces.Set(i, lp.pieces[i]);
            scores.Set(i, lp.scores[i]);
          }
          r.Set("pieces", pieces);
          r.Set("scores", scores);
          r.Set("nMerges", lp.n_merges);
          r.Set("nChars", lp.n_chars);
          return r;
        },
        "iro-forge-learn-vocab");
  });
}

}  // namespace

void register_forge_train(Napi::Env env, Napi::Object exports) {
  export_functions(env, exports, {{"forgeModel", ForgeModel}, {"forgeLearnVocab", ForgeLearnVocab}});
}

}  // namespace iro::napi
