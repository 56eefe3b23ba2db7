#include <cuda_runtime.h>

#include "cuda/device.h"

namespace iro::cuda {
namespace {
__global__ void add_one(int* v) { *v += 1; }
}  // namespace

DeviceStatus probe_device() {
  DeviceStatus st;
  cudaDriverGetVersion(&st.driver_version);
  cudaRuntimeGetVersion(&st.runtime_version);
  int count = 0;
  cudaError_t err = cudaGetDeviceCount(&count);
  if (err != cudaSuccess || count == 0) {
    st.reason = err != cudaSuccess ? cudaGetErrorString(err) : "no CUDA device";
    cudaGetLastError();
    return st;
  }
  cudaDeviceProp prop{};
  cudaGetDeviceProperties(&prop, 0);
  st.name = prop.name;
  st.compute_capability = std::to_string(prop.major) + "." + std::to_string(prop.minor);
  st.memory_total = prop.totalGlobalMem;
  int* d = nullptr;
  int h = 41;
  if ((err = cudaMalloc(&d, sizeof(int))) == cudaSuccess) {
    cudaMemcpy(d, &h, sizeof(int), cudaMemcpyHostToDevice);
    add_one<<<1, 1>>>(d);
    err = cudaMemcpy(&h, d, sizeof(int), cudaMemcpyDeviceToHost);
    cudaFree(d);
  }
  if (err != cudaSuccess || h != 42) {
    st.reason = std::string("test kernel failed: ") + (err != cudaSuccess ? cudaGetErrorString(err) : "wrong result");
    cudaGetLastError();
    return st;
  }
  st.usable = true;
  return st;
}

}  // namespace iro::cuda
