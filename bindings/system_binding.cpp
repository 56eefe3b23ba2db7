// systemInfo(), defaultThreads(), and the CUDA capability query of this variant.
#include "bindings/modules.h"
#include "bindings/napi_util.h"
#include "native/common/threads.h"
#include "native/llama/backend.h"
#if defined(IRO_WITH_CUDA)
#include "cuda/device.h"
#endif

namespace iro::napi {
namespace {

Napi::Value SystemInfoJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guard(env, [&]() -> Napi::Value {
    const SystemInfo s = system_info();
    Napi::Object o = Napi::Object::New(env);
    Napi::Object llama = Napi::Object::New(env);
    llama.Set("release", s.llama_release);
    llama.Set("commit", s.llama_commit);
    llama.Set("libraryDir", s.library_dir);
    o.Set("llama", llama);
    Napi::Array backends = Napi::Array::New(env, s.backends.size());
    for (size_t i = 0; i < s.backends.size(); ++i) backends.Set(i, s.backends[i]);
    o.Set("backends", backends);
    Napi::Array devices = Napi::Array::New(env, s.devices.size());
    for (size_t i = 0; i < s.devices.size(); ++i) {
      Napi::Object d = Napi::Object::New(env);
      d.Set("name", s.devices[i].name);
      d.Set("description", s.devices[i].description);
      d.Set("type", s.devices[i].type);
      d.Set("memoryFree", static_cast<double>(s.devices[i].memory_free));
      d.Set("memoryTotal", static_cast<double>(s.devices[i].memory_total));
      devices.Set(i, d);
    }
    o.Set("devices", devices);
    o.Set("cpuFeatures", s.cpu_features);
    o.Set("defaultThreads", default_thread_count());
    return o;
  });
}

// Kernels of this variant: which device they run on. The CUDA variant test-launches a kernel.
Napi::Value KernelDeviceJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object o = Napi::Object::New(env);
#if defined(IRO_WITH_CUDA)
  const iro::cuda::DeviceStatus st = iro::cuda::probe_device();
  o.Set("kind", "cuda");
  o.Set("usable", st.usable);
  o.Set("reason", st.reason);
  o.Set("name", st.name);
  o.Set("driverVersion", st.driver_version);
  o.Set("runtimeVersion", st.runtime_version);
  o.Set("computeCapability", st.compute_capability);
  o.Set("memoryTotal", static_cast<double>(st.memory_total));
#else
  o.Set("kind", "cpu");
  o.Set("usable", true);
  o.Set("reason", "");
#endif
  return o;
}

Napi::Value Echo(const Napi::CallbackInfo& info) {
  // Round-trip check used by the tests: returns a typed array doubled, proving data crosses both ways.
  Napi::Env env = info.Env();
  return guard(env, [&]() -> Napi::Value {
    auto in = typed_array<float>(info[0], "values");
    auto out = Napi::Float32Array::New(env, in.ElementLength());
    for (size_t i = 0; i < in.ElementLength(); ++i) out[i] = in[i] * 2.0f;
    return out;
  });
}

Napi::Value FailWith(const Napi::CallbackInfo& info) {
  // Raises a native iro::Error with the given code, to test error mapping end to end.
  Napi::Env env = info.Env();
  return guard(env, [&]() -> Napi::Value {
    const std::string code = string_arg(info, 0, "code");
    throw iro::Error(code, "native failure requested by test (" + code + ")");
  });
}

}  // namespace

void register_system(Napi::Env env, Napi::Object exports) {
  export_functions(env, exports, {
      {"systemInfo", SystemInfoJs},
      {"kernelDevice", KernelDeviceJs},
      {"echo", Echo},
      {"failWith", FailWith},
  });
}

}  // namespace iro::napi
