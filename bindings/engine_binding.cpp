// N-API surface of the engine: load / dispose / info / tokenize / detokenize / chat template.
// Decoding lives in engine_decode_binding.cpp.
#include "bindings/engine_binding.h"

#include "bindings/modules.h"
#include "native/common/threads.h"

namespace iro::napi {
namespace engine {
namespace {

struct Holder {
  BoxRef box;
};

}  // namespace

Napi::Value wrap_box(Napi::Env env, BoxRef box) {
  return Napi::External<Holder>::New(env, new Holder{std::move(box)}, [](Napi::Env, Holder* h) { delete h; });
}

BoxRef box_of(const Napi::Value& handle) {
  IRO_EXPECT(handle.IsExternal(), "engine handle expected");
  Holder* h = handle.As<Napi::External<Holder>>().Data();
  if (!h || !h->box || h->box->disposed.load()) fail(codes::kDisposed, "the engine has been disposed; load a new one with Engine.load");
  return h->box;
}

namespace {

// engineLoad(path, { contextSize, threads, gpuLayers, maxSequences, poll }, onProgress?) -> { promise, cancel }
Napi::Value Load(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guard(env, [&]() -> Napi::Value {
    const std::string path = string_arg(info, 0, "model");
    Napi::Object o = info.Length() > 1 && info[1].IsObject() ? info[1].As<Napi::Object>() : Napi::Object::New(env);
    iro::engine::ContextOptions co;
    co.context_size = opt_int(o, "contextSize", 2048);
    co.max_sequences = opt_int(o, "maxSequences", 16);
    co.threads = opt_int(o, "threads", default_thread_count());
    co.poll = opt_int(o, "poll", -1);
    const int32_t gpu_layers = opt_int(o, "gpuLayers", 0);
    IRO_EXPECT(co.context_size >= 16 && co.context_size <= (1 << 24), "contextSize must be an integer in [16, 16777216]");
    IRO_EXPECT(co.max_sequences >= 1 && co.max_sequences <= 256, "maxSequences must be an integer in [1, 256]");
    IRO_EXPECT(co.threads >= 1 && co.threads <= 1024, "threads must be an integer in [1, 1024]");
    IRO_EXPECT(co.poll >= -1 && co.poll <= 100, "poll must be -1 or an integer in [0, 100]");

    auto cancelled = std::make_shared<std::atomic<bool>>(false);
    std::shared_ptr<Napi::ThreadSafeFunction> progress;
    if (info.Length() > 2 && info[2].IsFunction()) {
      progress = std::make_shared<Napi::ThreadSafeFunction>(
          Napi::ThreadSafeFunction::New(env, info[2].As<Napi::Function>(), "iro-engine-load-progress", 0, 1));
    }
    iro::engine::ModelOptions mo;
    mo.path = path;
    mo.gpu_layers = gpu_layers;
    mo.on_progress = [cancelled, progress](float p) {
      if (progress) {
        progress->NonBlockingCall([p](Napi::Env env, Napi::Function fn) { fn.Call({Napi::Number::New(env, p)}); });
      }
      return !cancelled->load();
    };
    Napi::Promise promise = PromiseWorker<BoxRef>::Start(
        env,
        [mo, co, cancelled, progress]() -> BoxRef {
          struct Release {
            std::shared_ptr<Napi::ThreadSafeFunction> p;
            ~Release() { if (p) p->Release(); }
          } release{progress};
          auto box = std::make_shared<EngineBox>();
          box->model = iro::engine::Model::load(mo);
          if (cancelled->load()) fail(codes::kAborted, "model loading was aborted");
          box->scheduler = std::make_unique<iro::engine::Scheduler>(box->model, co);
          box->threads = co.threads;
          return box;
        },
        [](Napi::Env env, BoxRef& box) -> Napi::Value { return wrap_box(env, box); }, "iro-engine-load");
    Napi::Object out = Napi::Object::New(env);
    out.Set("promise", promise);
    out.Set("cancel", Napi::Function::New(env, [cancelled](const Napi::CallbackInfo&) { cancelled->store(true); }, "cancel"));
    return out;
  });
}

// engineDispose(handle) -> Promise<void>: in-flight requests complete with DISPOSED, then the
// context and model are freed off the JS thread.
Napi::Value Dispose(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guard(env, [&]() -> Napi::Value {
    IRO_EXPECT(info.Length() > 0 && info[0].IsExternal(), "engine handle expected");
    Holder* h = info[0].As<Napi::External<Holder>>().Data();
    BoxRef box = h ? h->box : nullptr;
    if (!box || box->disposed.exchange(true)) {
      auto d = Napi::Promise::Deferred::New(env);
      d.Resolve(env.Undefined());
      return d.Promise();
    }
    return PromiseWorker<bool>::Start(
        env,
        [box]() {
          if (box->scheduler) box->scheduler->shutdown();
          box->scheduler.reset();
          box->model.reset();
          return true;
        },
        [](Napi::Env env, bool&) -> Napi::Value { return env.Undefined(); }, "iro-engine-dispose");
  });
}

Napi::Value Info(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guard(env, [&]() -> Napi::Value {
    BoxRef box = box_of(info[0]);
    const auto& m = *box->model;
    const auto& c = box->scheduler->context();
    Napi::Object o = Napi::Object::New(env);
    o.Set("architecture", m.architecture());
    o.Set("description", m.description());
    o.Set("nVocab", m.n_vocab());
    o.Set("nEmbd", m.n_embd());
    o.Set("nCtxTrain", m.n_ctx_train());
    o.Set("contextSize", c.n_ctx());
    o.Set("maxSequences", c.n_seq_max());
    o.Set("threads", c.threads());
    o.Set("bos", m.bos());
    o.Set("eos", m.eos());
    o.Set("hasChatTemplate", m.has_chat_template());
    Napi::Object vocab = Napi::Object::New(env);
    vocab.Set("size", m.fingerprint().n_tokens);
    vocab.Set("fingerprint", m.fingerprint().hex);
    o.Set("vocab", vocab);
    return o;
  });
}

// engineTokenize(handle, text, addSpecial, parseSpecial) -> Int32Array
Napi::Value Tokenize(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guard(env, [&]() -> Napi::Value {
    BoxRef box = box_of(info[0]);
    const std::string text = string_arg(info, 1, "text");
    const bool add_special = info.Length() > 2 && info[2].IsBoolean() ? info[2].As<Napi::Boolean>().Value() : true;
    const bool parse_special = info.Length() > 3 && info[3].IsBoolean() ? info[3].As<Napi::Boolean>().Value() : false;
    return to_int32_array(env, box->model->tokenize(text, add_special, parse_special));
  });
}

// engineDetokenize(handle, Int32Array, renderSpecial) -> string
Napi::Value Detokenize(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guard(env, [&]() -> Napi::Value {
    BoxRef box = box_of(info[0]);
    const auto tokens = tokens_arg(info[1], "tokens");
    const bool special = info.Length() > 2 && info[2].IsBoolean() ? info[2].As<Napi::Boolean>().Value() : false;
    return Napi::String::New(env, box->model->detokenize(tokens, special));
  });
}

// engineApplyChatTemplate(handle, [{ role, content }], addAssistant) -> string
Napi::Value ApplyChatTemplate(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guard(env, [&]() -> Napi::Value {
    BoxRef box = box_of(info[0]);
    IRO_EXPECT(info.Length() > 1 && info[1].IsArray(), "messages must be an array of { role, content }");
    Napi::Array a = info[1].As<Napi::Array>();
    std::vector<iro::engine::ChatMessage> msgs;
    for (uint32_t i = 0; i < a.Length(); ++i) {
      Napi::Value e = a.Get(i);
      IRO_EXPECT(e.IsObject(), "messages[" + std::to_string(i) + "] must be an object");
      Napi::Object m = e.As<Napi::Object>();
      IRO_EXPECT(m.Get("role").IsString() && m.Get("content").IsString(), "messages[" + std::to_string(i) + "] needs string role and content");
      msgs.push_back({m.Get("role").As<Napi::String>().Utf8Value(), m.Get("content").As<Napi::String>().Utf8Value()});
    }
    const bool add_assistant = info.Length() > 2 && info[2].IsBoolean() ? info[2].As<Napi::Boolean>().Value() : true;
    return Napi::String::New(env, box->model->apply_chat_template(msgs, add_assistant));
  });
}

}  // namespace
}  // namespace engine

void register_engine(Napi::Env env, Napi::Object exports) {
  using namespace engine;
  exports.Set("engineLoad", Napi::Function::New(env, Load, "engineLoad"));
  exports.Set("engineDispose", Napi::Function::New(env, Dispose, "engineDispose"));
  exports.Set("engineInfo", Napi::Function::New(env, Info, "engineInfo"));
  exports.Set("engineTokenize", Napi::Function::New(env, Tokenize, "engineTokenize"));
  exports.Set("engineDetokenize", Napi::Function::New(env, Detokenize, "engineDetokenize"));
  exports.Set("engineApplyChatTemplate", Napi::Function::New(env, ApplyChatTemplate, "engineApplyChatTemplate"));
  register_decode(env, exports);
}

}  // namespace iro::napi
