// CUDA device status for the CUDA variant (compiled only there).
#pragma once
#include <cstddef>
#include <string>

namespace iro::cuda {

struct DeviceStatus {
  bool usable = false;
  std::string reason;  // why not usable
  std::string name;
  int driver_version = 0;
  int runtime_version = 0;
  std::string compute_capability;
  size_t memory_total = 0;
};

// Queries device 0 and launches a trivial kernel to prove the code runs on it.
DeviceStatus probe_device();

}  // namespace iro::cuda
