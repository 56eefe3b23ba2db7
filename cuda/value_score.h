// CUDA twin of native/kernels/value_score.h (compiled into the CUDA variant only). Same math in the
// same order with round-to-nearest float ops (no FMA contraction), so values match the CPU
// reference to float rounding (the contract: within 1e-5 relative). Host pointers in and out.
#pragma once
#include <cstdint>
#include <vector>

#include "native/kernels/value_score.h"

namespace iro::cuda {

// Value-net parameters uploaded once and kept on the device (RAII; move-only).
class DeviceValueNets {
 public:
  DeviceValueNets(const ValueNetView* nets, int32_t n_nets);  // validates dims/pointers like the CPU
  ~DeviceValueNets();
  DeviceValueNets(const DeviceValueNets&) = delete;
  DeviceValueNets& operator=(const DeviceValueNets&) = delete;
  int32_t size() const { return static_cast<int32_t>(views_.size()); }
  // Views whose pointers are DEVICE pointers (dims as given).
  const std::vector<ValueNetView>& views() const { return views_; }
  size_t bytes() const { return bytes_; }

 private:
  std::vector<ValueNetView> views_;
  std::vector<float*> owned_;
  size_t bytes_ = 0;
};

// Scores with resident nets: the features (host) are uploaded, the outputs (host) downloaded.
// Validation and errors as the CPU version; CUDA failures throw iro::Error(CUDA_ERROR).
void score_values(const SparseFeatures& x, const DeviceValueNets& nets, const float* betas, float* values, float* combined);

// Benchmark helper: uploads the features once, then times `repeats` launches of the scoring kernels
// (values + combined, no transfers) with CUDA events; returns milliseconds per launch.
double time_score_kernels(const SparseFeatures& x, const DeviceValueNets& nets, const float* betas, int repeats);

// Peak DRAM bandwidth of device 0 in GB/s from its memory clock and bus width (0 when unknown).
double peak_memory_bandwidth_gbs();

// Same shape as iro::score_values (uploads the nets for this one call; `threads` is ignored).
void score_values(const SparseFeatures& x, const ValueNetView* nets, int32_t n_nets, const float* betas, float* values,
                  float* combined, int threads);

}  // namespace iro::cuda
