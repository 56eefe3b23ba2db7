// Module entry: one N-API module per variant (cpu, cudaNN), same surface.
#include <napi.h>

#include "bindings/modules.h"

namespace {

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("variant", Napi::String::New(env, IRO_VARIANT));
  exports.Set("abi", Napi::Number::New(env, 1));
  iro::napi::register_system(env, exports);
  iro::napi::register_kernels(env, exports);
  iro::napi::register_engine(env, exports);
  iro::napi::register_forge(env, exports);
  iro::napi::register_value(env, exports);
  iro::napi::engine::register_search(env, exports);
  return exports;
}

}  // namespace

NODE_API_MODULE(iro_native, Init)
