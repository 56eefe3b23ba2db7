#include "native/llama/backend.h"

#include <dlfcn.h>

#include <climits>
#include <cstdio>
#include <cstdlib>
#include <mutex>

#include "ggml-backend.h"
#include "llama.h"

namespace iro {
namespace {

std::string library_dir_of_llama() {
  Dl_info info{};
  if (dladdr(reinterpret_cast<void*>(&llama_backend_init), &info) == 0 || info.dli_fname == nullptr) return {};
  std::string path = info.dli_fname;
  const auto slash = path.find_last_of('/');
  std::string dir = slash == std::string::npos ? std::string(".") : path.substr(0, slash);
  char resolved[PATH_MAX];
  return realpath(dir.c_str(), resolved) ? std::string(resolved) : dir;
}

void quiet_log(enum ggml_log_level level, const char* text, void* /*user*/) {
  // Only errors reach stderr by default; IRO_LLAMA_LOG=1 restores llama.cpp's full log.
  if (level == GGML_LOG_LEVEL_ERROR) std::fputs(text, stderr);
}

const char* device_type_name(enum ggml_backend_dev_type t) {
  switch (t) {
    case GGML_BACKEND_DEVICE_TYPE_CPU: return "cpu";
    case GGML_BACKEND_DEVICE_TYPE_GPU: return "gpu";
    case GGML_BACKEND_DEVICE_TYPE_IGPU: return "igpu";
    case GGML_BACKEND_DEVICE_TYPE_ACCEL: return "accel";
    default: return "other";
  }
}

}  // namespace

void ensure_backends_loaded() {
  static std::once_flag once;
  std::call_once(once, [] {
    const char* verbose = std::getenv("IRO_LLAMA_LOG");
    if (!(verbose && *verbose && std::string(verbose) != "0")) llama_log_set(quiet_log, nullptr);
    const std::string dir = library_dir_of_llama();
    if (!dir.empty()) ggml_backend_load_all_from_path(dir.c_str());
    else ggml_backend_load_all();
    llama_backend_init();
  });
}

SystemInfo system_info() {
  ensure_backends_loaded();
  SystemInfo s;
  s.llama_release = IRO_LLAMA_RELEASE;
  s.llama_commit = IRO_LLAMA_COMMIT;
  s.library_dir = library_dir_of_llama();
  for (size_t i = 0; i < ggml_backend_reg_count(); ++i) s.backends.emplace_back(ggml_backend_reg_name(ggml_backend_reg_get(i)));
  for (size_t i = 0; i < ggml_backend_dev_count(); ++i) {
    ggml_backend_dev_t dev = ggml_backend_dev_get(i);
    DeviceInfo d;
    d.name = ggml_backend_dev_name(dev);
    d.description = ggml_backend_dev_description(dev);
    d.type = device_type_name(ggml_backend_dev_type(dev));
    ggml_backend_dev_memory(dev, &d.memory_free, &d.memory_total);
    s.devices.push_back(std::move(d));
  }
  s.cpu_features = llama_print_system_info();
  return s;
}

}  // namespace iro
