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

Napi::Value wrap_box(Napi::Env env, BoxRef box) {
  return Napi::External<Holder>::New(env, new Holder{std::move(box)}, [](Napi::Env, Holder* h) { delete h; });
}

// Optional boolean argument i: anything but a boolean means the fallback.
bool bool_arg(const Napi::CallbackInfo& info, size_t i, bool fallback) {
  return info.Length() > i && info[i].IsBoolean() ? info[i].As<Napi::Boolean>().Value() : fallback;
}

}  // namespace

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
    co.context_size = int_field(o, "contextSize", 2048);
    co.max_sequences = int_field(o, "maxSequences", 16);
    co.threads = int_field(o, "threads", default_thread_count());
    co.poll = int_field(o, "poll", -1);
    const int32_t gpu_layers = int_field(o, "gpuLayers", 0);
    IRO_EXPECT(co.context_size >= 16 && co.context_size <= (1 << 24), "contextSize must be an integer in [16, 16777216]");
    IRO_EXPECT(co.max_sequences >= 1 && co.max_sequences <= 256, "maxSequences must be an integer in [1, 256]");
    IRO_EXPECT(co.threads >= 1 && co.threads <= 1024, "threads must be an integer in [1, 1024]");
    IRO_EXPECT(co.poll >= -1 && co.poll <= 100, "poll must be -1 or an integer in [0, 100]");

    auto cancelled = std::make_shared<std::atomic<bool>>(false);
    std::shared_ptr<Napi::ThreadSafeFunction> progress = optional_callback(info, 2, "iro-engine-load-progress");
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
          ReleaseOnExit release{progress};
          auto box = std::make_shared<EngineBox>();
          box->model = iro::engine::Model::load(mo);
          if (cancelled->load()) fail(codes::kAborted, "model loading was aborted");
          box->scheduler = std::make_unique<iro::engine::Scheduler>(box->model, co);
          box->threads = co.threads;
          return box;
        },
        [](Napi::Env env, BoxRef& box) -> Napi::Value { return wrap_box(env, box); }, "iro-engine-load");
    return cancellable(env, promise, cancelled);
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
    o.Set("vocab", vocab_to_js(env, m.fingerprint().n_tokens, m.fingerprint().hex));
    return o;
  });
}

// engineTokenize(handle, text, addSpecial, parseSpecial) -> Int32Array
Napi::Value Tokenize(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guard(env, [&]() -> Napi::Value {
    BoxRef box = box_of(info[0]);
    const std::string text = string_arg(info, 1, "text");
    return to_typed_array(env, box->model->tokenize(text, bool_arg(info, 2, true), bool_arg(info, 3, false)));
  });
}

// engineDetokenize(handle, Int32Array, renderSpecial) -> string
Napi::Value Detokenize(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guard(env, [&]() -> Napi::Value {
    BoxRef box = box_of(info[0]);
    const auto tokens = typed_vector<int32_t>(info[1], "tokens");
    return Napi::String::New(env, box->model->detokenize(tokens, bool_arg(info, 2, false)));
  });
}

// engineApplyChatTemplate(handle, [{ role, content }], addAssistant) -> string
Napi::Value ApplyChatTemplate(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guard(env, [&]() -> Napi::Value {
    BoxRef box = box_of(info[0]);
    IRO_EXPECT(info.Length() > 1 && info[1].IsArray(), "messages must be an array of { role, content }");
    Napi::Array a = info[1].As<Napi::Array>();
    const uint32_t n = a.Length();
    std::vector<iro::engine::ChatMessage> msgs;
    for (uint32_t i = 0; i < n; ++i) {
      Napi::Value e = a.Get(i);
      IRO_EXPECT(e.IsObject(), "messages[" + std::to_string(i) + "] must be an object");
      Napi::Object m = e.As<Napi::Object>();
      const Napi::Value role = m.Get("role"), content = m.Get("content");
      IRO_EXPECT(role.IsString() && content.IsString(), "messages[" + std::to_string(i) + "] needs string role and content");
      msgs.push_back({role.As<Napi::String>().Utf8Value(), content.As<Napi::String>().Utf8Value()});
    }
    return Napi::String::New(env, box->model->apply_chat_template(msgs, bool_arg(info, 2, true)));
  });
}

}  // namespace
}  // namespace engine

void register_engine(Napi::Env env, Napi::Object exports) {
  using namespace engine;
  export_functions(env, exports, {
      {"engineLoad", Load},
      {"engineDispose", Dispose},
      {"engineInfo", Info},
      {"engineTokenize", Tokenize},
      {"engineDetokenize", Detokenize},
      {"engineApplyChatTemplate", ApplyChatTemplate},
  });
  register_decode(env, exports);
}

}  // namespace iro::napi
