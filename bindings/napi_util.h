// Shared N-API glue: error mapping (iro::Error -> JS Error with .code), argument readers and
// converters, a promise-returning AsyncWorker and thread-safe-function helpers. No algorithm lives
// in bindings/.
#pragma once
#include <napi.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <functional>
#include <initializer_list>
#include <memory>
#include <new>
#include <string>
#include <utility>
#include <vector>

#include "native/common/error.h"

namespace iro::napi {

inline Napi::Error make_error(Napi::Env env, const std::string& code, const std::string& message) {
  Napi::Error err = Napi::Error::New(env, message);
  err.Set("code", Napi::String::New(env, code));
  err.Set("iroNative", Napi::Boolean::New(env, true));
  return err;
}

// The code and message a native exception reaches JS with. Call only inside a catch block: it
// rethrows the exception being handled to classify it (guard and PromiseWorker share this mapping).
struct NativeError {
  std::string code, message;
};
inline NativeError current_error() {
  try {
    throw;
  } catch (const iro::Error& e) {
    return {e.code(), e.what()};
  } catch (const std::bad_alloc&) {
    return {"OUT_OF_MEMORY", "iro-native ran out of memory; reduce batch, context or model size"};
  } catch (const std::exception& e) {
    return {"INTERNAL", std::string("internal error in iro-native: ") + e.what()};
  }
}

// Runs fn, converting every C++ exception into a JS exception with a stable code.
template <typename Fn>
auto guard(Napi::Env env, Fn&& fn) -> decltype(fn()) {
  try {
    return fn();
  } catch (const Napi::Error&) {
    throw;
  } catch (const std::exception&) {
    const NativeError e = current_error();
    throw make_error(env, e.code, e.message);
  }
}

// A Promise-returning worker: `work` runs off the JS thread; `done` converts its result on the JS
// thread. Errors thrown by `work` reject the promise with their code.
template <typename T>
class PromiseWorker : public Napi::AsyncWorker {
 public:
  using Work = std::function<T()>;
  using Done = std::function<Napi::Value(Napi::Env, T&)>;

  static Napi::Promise Start(Napi::Env env, Work work, Done done, const char* name = "iro-native") {
    auto* w = new PromiseWorker(env, std::move(work), std::move(done), name);
    Napi::Promise p = w->deferred_.Promise();
    w->Queue();
    return p;
  }

 protected:
  void Execute() override {
    try {
      result_ = std::make_unique<T>(work_());
    } catch (const std::exception&) {
      error_ = current_error();
    }
  }
  void OnOK() override {
    Napi::Env env = Env();
    Napi::HandleScope scope(env);
    if (!error_.code.empty()) {
      deferred_.Reject(make_error(env, error_.code, error_.message).Value());
      return;
    }
    try {
      deferred_.Resolve(done_(env, *result_));
    } catch (const Napi::Error& e) {
      deferred_.Reject(e.Value());
    } catch (const iro::Error& e) {
      deferred_.Reject(make_error(env, e.code(), e.what()).Value());
    } catch (const std::exception& e) {
      deferred_.Reject(make_error(env, "INTERNAL", e.what()).Value());
    }
  }
  void OnError(const Napi::Error& e) override { deferred_.Reject(e.Value()); }

 private:
  PromiseWorker(Napi::Env env, Work work, Done done, const char* name)
      : Napi::AsyncWorker(env, name), deferred_(Napi::Promise::Deferred::New(env)), work_(std::move(work)), done_(std::move(done)) {}
  Napi::Promise::Deferred deferred_;
  Work work_;
  Done done_;
  std::unique_ptr<T> result_;
  NativeError error_;  // code empty on success
};

// ---- argument readers (throw INVALID_ARGUMENT with the argument's name) ----
// Same as IRO_REQUIRE_ARG (native/common/error.h): the message is built only on failure.
#define IRO_EXPECT(ok, ...) IRO_REQUIRE_ARG(ok, __VA_ARGS__)

template <typename T> struct TypedArrayKind;
template <> struct TypedArrayKind<float> { static constexpr napi_typedarray_type value = napi_float32_array; static constexpr const char* name = "Float32Array"; };
template <> struct TypedArrayKind<double> { static constexpr napi_typedarray_type value = napi_float64_array; static constexpr const char* name = "Float64Array"; };
template <> struct TypedArrayKind<int32_t> { static constexpr napi_typedarray_type value = napi_int32_array; static constexpr const char* name = "Int32Array"; };
template <> struct TypedArrayKind<uint32_t> { static constexpr napi_typedarray_type value = napi_uint32_array; static constexpr const char* name = "Uint32Array"; };
template <> struct TypedArrayKind<uint8_t> { static constexpr napi_typedarray_type value = napi_uint8_array; static constexpr const char* name = "Uint8Array"; };

// A typed array argument of element type T (checked), e.g. typed_array<float>(info[0], "scores").
template <typename T>
Napi::TypedArrayOf<T> typed_array(const Napi::Value& v, const char* name) {
  IRO_EXPECT(v.IsTypedArray() && v.As<Napi::TypedArray>().TypedArrayType() == TypedArrayKind<T>::value,
         std::string(name) + " must be a " + TypedArrayKind<T>::name);
  return v.As<Napi::TypedArrayOf<T>>();
}

// A typed array argument copied out, for work that runs after the call returns.
template <typename T>
std::vector<T> typed_vector(const Napi::Value& v, const char* name) {
  Napi::TypedArrayOf<T> a = typed_array<T>(v, name);
  return std::vector<T>(a.Data(), a.Data() + a.ElementLength());
}

// A new typed array holding a copy of v (Int32Array for int32_t, Float32Array for float, ...).
template <typename T>
Napi::TypedArrayOf<T> to_typed_array(Napi::Env env, const std::vector<T>& v) {
  auto a = Napi::TypedArrayOf<T>::New(env, v.size());
  std::copy(v.begin(), v.end(), a.Data());
  return a;
}

inline std::string string_arg(const Napi::CallbackInfo& info, size_t i, const char* name) {
  IRO_EXPECT(info.Length() > i && info[i].IsString(), std::string(name) + " must be a string");
  return info[i].As<Napi::String>().Utf8Value();
}

inline Napi::Object object_arg(const Napi::CallbackInfo& info, size_t i, const char* name) {
  IRO_EXPECT(info.Length() > i && info[i].IsObject(), std::string(name) + " must be an object");
  return info[i].As<Napi::Object>();
}

// ---- optional fields of an options object (undefined or null: the fallback) ----
inline double number_field(const Napi::Object& o, const char* key, double fallback) {
  Napi::Value v = o.Get(key);
  if (v.IsUndefined() || v.IsNull()) return fallback;
  IRO_EXPECT(v.IsNumber(), std::string(key) + " must be a number");
  return v.As<Napi::Number>().DoubleValue();
}

inline int32_t int_field(const Napi::Object& o, const char* key, int32_t fallback) {
  const double v = number_field(o, key, fallback);
  IRO_EXPECT(std::isfinite(v) && std::floor(v) == v && std::fabs(v) <= 2147483647.0, std::string(key) + " must be an integer");
  return static_cast<int32_t>(v);
}

// Seeds are non-negative integers up to 2^53 (exact in a JS number); default 0.
inline uint64_t seed_field(const Napi::Object& o, const char* key) {
  const double v = number_field(o, key, 0);
  IRO_EXPECT(std::isfinite(v) && std::floor(v) == v && v >= 0 && v <= 9007199254740991.0,
         std::string(key) + " must be a non-negative integer");
  return static_cast<uint64_t>(v);
}

inline bool bool_field(const Napi::Object& o, const char* key, bool fallback) {
  Napi::Value v = o.Get(key);
  if (v.IsUndefined() || v.IsNull()) return fallback;
  IRO_EXPECT(v.IsBoolean(), std::string(key) + " must be a boolean");
  return v.As<Napi::Boolean>().Value();
}

inline std::string optional_string_field(const Napi::Object& o, const char* key, const std::string& fallback) {
  Napi::Value v = o.Get(key);
  if (v.IsUndefined() || v.IsNull()) return fallback;
  IRO_EXPECT(v.IsString(), std::string(key) + " must be a string");
  return v.As<Napi::String>().Utf8Value();
}

// ---- results and jobs ----
// { size, fingerprint } of a vocabulary (engine info, value-function info, a model file's vocab).
inline Napi::Object vocab_to_js(Napi::Env env, int32_t size, const std::string& fingerprint) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("size", size);
  o.Set("fingerprint", fingerprint);
  return o;
}

// The { promise, cancel() } of a cancellable job: cancel() raises the flag the work polls.
inline Napi::Object cancellable(Napi::Env env, Napi::Promise promise, std::shared_ptr<std::atomic<bool>> cancel) {
  Napi::Object job = Napi::Object::New(env);
  job.Set("promise", promise);
  job.Set("cancel", Napi::Function::New(env, [cancel](const Napi::CallbackInfo&) { cancel->store(true); }, "cancel"));
  return job;
}

// ---- calls back into JS from native threads (thread-safe functions) ----
// A thread-safe function for the optional callback argument i; null when none was passed.
inline std::shared_ptr<Napi::ThreadSafeFunction> optional_callback(const Napi::CallbackInfo& info, size_t i, const char* name) {
  if (info.Length() <= i || !info[i].IsFunction()) return nullptr;
  return std::make_shared<Napi::ThreadSafeFunction>(Napi::ThreadSafeFunction::New(info.Env(), info[i].As<Napi::Function>(), name, 0, 1));
}

// Releases a thread-safe function when the worker feeding it ends, however it ends.
struct ReleaseOnExit {
  std::shared_ptr<Napi::ThreadSafeFunction> tsfn;
  ~ReleaseOnExit() {
    if (tsfn) tsfn->Release();
  }
};

// Runs fn(env, jsCallback, value) on the JS thread without blocking the caller. The call owns the
// value: freed after fn (also when fn throws), or at once when the call cannot be queued.
template <typename T, typename Fn>
void post_to_js(const Napi::ThreadSafeFunction& tsfn, T value, Fn fn) {
  auto* data = new T(std::move(value));
  const napi_status st = tsfn.NonBlockingCall(data, [fn](Napi::Env env, Napi::Function js, T* d) {
    std::unique_ptr<T> own(d);
    fn(env, js, *own);
  });
  if (st != napi_ok) delete data;
}

// Sets each function on exports under its name (also the JS function's name).
using ExportedFn = Napi::Value (*)(const Napi::CallbackInfo&);
inline void export_functions(Napi::Env env, Napi::Object exports, std::initializer_list<std::pair<const char*, ExportedFn>> fns) {
  for (const auto& [name, fn] : fns) exports.Set(name, Napi::Function::New(env, fn, name));
}

}  // namespace iro::napi
