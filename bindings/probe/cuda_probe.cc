// Asks the CUDA driver (libcuda.so.1, opened with dlopen so nothing is linked) whether a usable
// device exists. Used by the loader before it loads any llama.cpp library.
#include <dlfcn.h>
#include <napi.h>

#include <string>

namespace {

using CuInit = int (*)(unsigned int);
using CuCount = int (*)(int*);
using CuDriverVersion = int (*)(int*);

Napi::Value Probe(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object o = Napi::Object::New(env);
  void* lib = dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL);
  if (!lib) {
    o.Set("driver", false);
    o.Set("devices", 0);
    o.Set("reason", "no CUDA driver (libcuda.so.1 not found)");
    return o;
  }
  auto cu_init = reinterpret_cast<CuInit>(dlsym(lib, "cuInit"));
  auto cu_count = reinterpret_cast<CuCount>(dlsym(lib, "cuDeviceGetCount"));
  auto cu_version = reinterpret_cast<CuDriverVersion>(dlsym(lib, "cuDriverGetVersion"));
  int version = 0, count = 0;
  std::string reason;
  if (!cu_init || !cu_count) {
    reason = "libcuda.so.1 lacks cuInit/cuDeviceGetCount";
  } else if (int rc = cu_init(0); rc != 0) {
    reason = "cuInit failed with CUDA error " + std::to_string(rc) + " (no device or driver not loaded)";
  } else if (int rc2 = cu_count(&count); rc2 != 0) {
    reason = "cuDeviceGetCount failed with CUDA error " + std::to_string(rc2);
    count = 0;
  } else if (count == 0) {
    reason = "the CUDA driver reports no device";
  }
  if (cu_version) cu_version(&version);
  o.Set("driver", true);
  o.Set("driverVersion", version);
  o.Set("devices", count);
  o.Set("reason", reason);
  // libcuda stays loaded: unloading a driver library after cuInit is unsafe.
  return o;
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("probeCuda", Napi::Function::New(env, Probe, "probeCuda"));
  return exports;
}

}  // namespace

NODE_API_MODULE(iro_probe, Init)
