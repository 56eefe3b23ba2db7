// Access to the value model behind a JS value-function handle, for other bindings (search).
#pragma once
#include <napi.h>

#include <memory>

#include "native/value/value_model.h"

namespace iro::napi {

// Throws INVALID_ARGUMENT when v is not a value-function handle, DISPOSED when it was disposed.
std::shared_ptr<const iro::value::ValueModel> value_model_from_handle(const Napi::Value& v, const char* name);

}  // namespace iro::napi
