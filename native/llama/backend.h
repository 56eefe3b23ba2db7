// Process-wide llama.cpp / ggml initialisation and a description of what was found.
#pragma once
#include <cstddef>
#include <string>
#include <vector>

namespace iro {

struct DeviceInfo {
  std::string name;
  std::string description;
  std::string type;  // "cpu" | "gpu" | "igpu" | "accel" | "other"
  size_t memory_free = 0;
  size_t memory_total = 0;
};

struct SystemInfo {
  std::string llama_release;
  std::string llama_commit;
  std::string library_dir;  // where libllama was loaded from (backend plug-ins are loaded from here)
  std::vector<std::string> backends;
  std::vector<DeviceInfo> devices;
  std::string cpu_features;  // llama_print_system_info()
};

// Loads the ggml backend plug-ins that sit next to libllama (once per process; ggml's backend
// registry is itself process-global) and silences llama.cpp's logging unless IRO_LLAMA_LOG is set.
void ensure_backends_loaded();

SystemInfo system_info();

}  // namespace iro
