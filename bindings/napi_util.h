// Shared N-API glue: error mapping (iro::Error -> JS Error with .code), argument readers and a
// promise-returning AsyncWorker. No algorithm lives in bindings/.
#pragma once
#include <napi.h>

#include <functional>
#include <memory>
#include <new>
#include <string>
#include <vector>

#include "native/common/error.h"

namespace iro::napi {

inline Napi::Error make_error(Napi::Env env, const std::string& code, const std::string& message) {
  Napi::Error err = Napi::Error::New(env, message);
  err.Set("code", Napi::String::New(env, code));
  err.Set("iroNative", Napi::Boolean::New(env, true));
  return err;
}

// Runs fn, converting every C++ exception into a JS exception with a stable code.
template <typename Fn>
auto guard(Napi::Env env, Fn&& fn) -> decltype(fn()) {
  try {
    return fn();
  } catch (const Napi::Error&) {
    throw;
  } catch (const iro::Error& e) {
    throw make_error(env, e.code(), e.what());
  } catch (const std::bad_alloc&) {
    throw make_error(env, "OUT_OF_MEMORY", "iro-native ran out of memory; reduce batch, context or model size");
  } catch (const std::exception& e) {
    throw make_error(env, "INTERNAL", std::string("internal error in iro-native: ") + e.what());
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
    } catch (const iro::Error& e) {
      code_ = e.code();
      message_ = e.what();
    } catch (const std::bad_alloc&) {
      code_ = "OUT_OF_MEMORY";
      message_ = "iro-native ran out of memory; reduce batch, context or model size";
    } catch (const std::exception& e) {
      code_ = "INTERNAL";
      message_ = std::string("internal error in iro-native: ") + e.what();
    }
  }
  void OnOK() override {
    Napi::Env env = Env();
    Napi::HandleScope scope(env);
    if (!code_.empty()) {
      deferred_.Reject(make_error(env, code_, message_).Value());
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
  std::string code_, message_;
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

inline std::string string_arg(const Napi::CallbackInfo& info, size_t i, const char* name) {
  IRO_EXPECT(info.Length() > i && info[i].IsString(), std::string(name) + " must be a string");
  return info[i].As<Napi::String>().Utf8Value();
}

inline Napi::Object object_arg(const Napi::CallbackInfo& info, size_t i, const char* name) {
  IRO_EXPECT(info.Length() > i && info[i].IsObject(), std::string(name) + " must be an object");
  return info[i].As<Napi::Object>();
}

// Optional numeric field of an options object.
inline double number_field(const Napi::Object& o, const char* key, double fallback) {
  Napi::Value v = o.Get(key);
  if (v.IsUndefined() || v.IsNull()) return fallback;
  IRO_EXPECT(v.IsNumber(), std::string(key) + " must be a number");
  return v.As<Napi::Number>().DoubleValue();
}

}  // namespace iro::napi
