// Each area of the addon registers its functions on the exports object.
#pragma once
#include <napi.h>

namespace iro::napi {
void register_system(Napi::Env env, Napi::Object exports);
void register_kernels(Napi::Env env, Napi::Object exports);
void register_engine(Napi::Env env, Napi::Object exports);
void register_forge(Napi::Env env, Napi::Object exports);
void register_value(Napi::Env env, Napi::Object exports);
namespace engine {
void register_search(Napi::Env env, Napi::Object exports);  // value-guided search (engine_search_binding.cpp)
}
}  // namespace iro::napi
