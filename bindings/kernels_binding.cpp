// N-API surface of the kernels area (filled in by its issue).
#include "bindings/modules.h"
#include "bindings/napi_util.h"

namespace iro::napi {

void register_kernels(Napi::Env env, Napi::Object exports) {}

}  // namespace iro::napi
