// N-API surface of the engine area (filled in by its issue).
#include "bindings/modules.h"
#include "bindings/napi_util.h"

namespace iro::napi {

void register_engine(Napi::Env env, Napi::Object exports) {}

}  // namespace iro::napi
