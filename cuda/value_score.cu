#include "cuda/value_score.h"

#include <algorithm>

#include "cuda/cuda_util.cuh"

namespace iro::cuda {
namespace {

struct NetDev {
  int32_t nb, d, hidden, d_dense;
  const float *E, *P, *b0, *W1, *b1, *w2;
  float b2;
};

// One block per (state, net). Every output element is computed by one thread in the CPU's order.
__global__ void score_kernel(const int32_t* __restrict__ offsets, const uint32_t* __restrict__ ids, const float* __restrict__ weights,
                             const float* __restrict__ dense, int32_t x_d_dense, const NetDev* __restrict__ nets, int32_t n_nets,
                             int32_t max_d, float* __restrict__ values) {
  extern __shared__ float sh[];
  const int64_t s = blockIdx.x;
  const int32_t m = blockIdx.y;
  const NetDev n = nets[m];
  float* a = sh;
  float* h = sh + max_d;
  const int32_t j0 = offsets[s], j1 = offsets[s + 1];
  const uint32_t nb = static_cast<uint32_t>(n.nb);
  for (int32_t t = threadIdx.x; t < n.d; t += blockDim.x) {
    float acc = n.b0[t];
    for (int32_t j = j0; j < j1; ++j) {
      const float e = n.E[static_cast<size_t>(ids[j] % nb) * n.d + t];
      acc = weights ? __fadd_rn(acc, __fmul_rn(weights[j], e)) : __fadd_rn(acc, e);
    }
    if (n.d_dense > 0) {
      const float* xr = dense + s * x_d_dense;
      for (int32_t q = 0; q < n.d_dense; ++q) acc = __fadd_rn(acc, __fmul_rn(xr[q], n.P[static_cast<size_t>(q) * n.d + t]));
    }
    a[t] = acc;
  }
  __syncthreads();
  for (int32_t u = threadIdx.x; u < n.hidden; u += blockDim.x) {
    float acc = n.b1[u];
    const float* row = n.W1 + static_cast<size_t>(u) * n.d;
    for (int32_t t = 0; t < n.d; ++t) acc = __fadd_rn(acc, __fmul_rn(row[t], a[t]));
    h[u] = acc > 0.0f ? acc : 0.0f;
  }
  __syncthreads();
  if (threadIdx.x == 0) {
    float v = n.b2;
    for (int32_t u = 0; u < n.hidden; ++u) v = __fadd_rn(v, __fmul_rn(n.w2[u], h[u]));
    values[s * n_nets + m] = v;
  }
}

__global__ void combine_kernel(const float* __restrict__ values, const float* __restrict__ betas, int32_t n_states, int32_t n_nets,
                               float* __restrict__ combined) {
  const int64_t s = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (s >= n_states) return;
  float c = 0.0f;
  for (int32_t m = 0; m < n_nets; ++m) c = __fadd_rn(c, __fdiv_rn(values[s * n_nets + m], betas[m]));
  combined[s] = c;
}

float* upload_floats(const float* host, size_t n, std::vector<float*>& owned, size_t& bytes) {
  if (!host || n == 0) return nullptr;
  float* p = nullptr;
  check(cudaMalloc(&p, n * sizeof(float)), "cudaMalloc (value net)");
  owned.push_back(p);
  check(cudaMemcpy(p, host, n * sizeof(float), cudaMemcpyHostToDevice), "cudaMemcpy (value net)");
  bytes += n * sizeof(float);
  return p;
}

}  // namespace

DeviceValueNets::DeviceValueNets(const ValueNetView* nets, int32_t n_nets) {
  // Validate the nets alone (no states, a dummy beta of 1 each).
  std::vector<float> ones(static_cast<size_t>(std::max(n_nets, 0)), 1.0f);
  SparseFeatures none;
  int32_t zero = 0;
  none.offsets = &zero;
  std::vector<float> dummy_dense(1, 0.0f);
  for (int32_t m = 0; m < n_nets; ++m) {
    if (nets && nets[m].dims.d_dense > 0) {
      // Dense widths are checked against the features at scoring time.
      none.dense = dummy_dense.data();
      none.d_dense = nets[m].dims.d_dense;
      validate_score_inputs(none, nets + m, 1, ones.data());
      none.dense = nullptr;
      none.d_dense = 0;
    } else {
      validate_score_inputs(none, nets ? nets + m : nullptr, 1, ones.data());
    }
  }
  try {
    for (int32_t m = 0; m < n_nets; ++m) {
      const ValueNetView& n = nets[m];
      ValueNetView v;
      v.dims = n.dims;
      const size_t d = static_cast<size_t>(n.dims.d), hd = static_cast<size_t>(n.dims.hidden);
      v.E = upload_floats(n.E, static_cast<size_t>(n.dims.n_buckets) * d, owned_, bytes_);
      v.P = upload_floats(n.P, static_cast<size_t>(n.dims.d_dense) * d, owned_, bytes_);
      v.b0 = upload_floats(n.b0, d, owned_, bytes_);
      v.W1 = upload_floats(n.W1, hd * d, owned_, bytes_);
      v.b1 = upload_floats(n.b1, hd, owned_, bytes_);
      v.w2 = upload_floats(n.w2, hd, owned_, bytes_);
      v.b2 = n.b2;
      views_.push_back(v);
    }
  } catch (...) {
    for (float* p : owned_) cudaFree(p);
    throw;
  }
}

DeviceValueNets::~DeviceValueNets() {
  for (float* p : owned_) cudaFree(p);
}

namespace {
// Features, betas and outputs of one call, resident on the device.
struct ScoreJob {
  int32_t n_states = 0, n_nets = 0, max_d = 1, max_h = 1, dense_width = 0;
  bool weighted = false;
  DeviceBuffer<int32_t> d_off;
  DeviceBuffer<uint32_t> d_ids;
  DeviceBuffer<float> d_w, d_dense, d_betas, d_values, d_combined;
  DeviceBuffer<NetDev> d_nets;

  void launch(bool with_combined) {
    const int threads = std::min(256, std::max(32, ((std::max(max_d, max_h) + 31) / 32) * 32));
    const size_t shmem = sizeof(float) * static_cast<size_t>(max_d + max_h);
    score_kernel<<<dim3(static_cast<unsigned>(n_states), static_cast<unsigned>(n_nets)), threads, shmem>>>(
        d_off.get(), d_ids.get(), weighted ? d_w.get() : nullptr, d_dense.get(), d_dense_width(), d_nets.get(), n_nets, max_d, d_values.get());
    check(cudaGetLastError(), "score_values kernel launch");
    if (with_combined)
      combine_kernel<<<static_cast<unsigned>((static_cast<size_t>(n_states) + 255) / 256), 256>>>(d_values.get(), d_betas.get(), n_states,
                                                                                                   n_nets, d_combined.get());
    check(cudaGetLastError(), "score_values combine launch");
  }
  int32_t d_dense_width() const { return dense_width; }
};

void prepare(ScoreJob& j, const SparseFeatures& x, const DeviceValueNets& nets, const float* betas) {
  const int32_t n_nets = nets.size();
  const size_t n_states = static_cast<size_t>(x.n_states);
  const size_t n_ids = static_cast<size_t>(x.offsets[x.n_states]);
  j.n_states = x.n_states;
  j.n_nets = n_nets;
  j.dense_width = x.d_dense;
  j.weighted = x.weights != nullptr;
  auto& d_off = j.d_off;
  auto& d_ids = j.d_ids;
  auto& d_w = j.d_w;
  auto& d_dense = j.d_dense;
  auto& d_betas = j.d_betas;
  auto& d_nets = j.d_nets;
  d_off.upload(x.offsets, n_states + 1);
  if (n_ids > 0) d_ids.upload(x.ids, n_ids);
  if (x.weights && n_ids > 0) d_w.upload(x.weights, n_ids);
  if (x.dense && x.d_dense > 0) d_dense.upload(x.dense, n_states * static_cast<size_t>(x.d_dense));
  d_betas.upload(betas, static_cast<size_t>(n_nets));
  std::vector<NetDev> hn;
  int32_t max_d = 1, max_h = 1;
  for (const ValueNetView& v : nets.views()) {
    hn.push_back(NetDev{v.dims.n_buckets, v.dims.d, v.dims.hidden, v.dims.d_dense, v.E, v.P, v.b0, v.W1, v.b1, v.w2, v.b2});
    max_d = std::max(max_d, v.dims.d);
    max_h = std::max(max_h, v.dims.hidden);
  }
  d_nets.upload(hn.data(), hn.size());
  j.max_d = max_d;
  j.max_h = max_h;
  IRO_REQUIRE_ARG(n_nets <= 65535, "too many value nets for one CUDA launch (max 65535)");
  j.d_values.resize(n_states * static_cast<size_t>(n_nets));
  j.d_combined.resize(n_states);
}
}  // namespace

void score_values(const SparseFeatures& x, const DeviceValueNets& nets, const float* betas, float* values, float* combined) {
  const int32_t n_nets = nets.size();
  validate_score_inputs(x, nets.views().data(), n_nets, betas);
  if (x.n_states == 0 || n_nets == 0) {
    if (combined) std::fill(combined, combined + x.n_states, 0.0f);
    return;
  }
  ScoreJob j;
  prepare(j, x, nets, betas);
  j.launch(combined != nullptr);
  check_launch("score_values kernels");
  const size_t n_states = static_cast<size_t>(x.n_states);
  if (combined) j.d_combined.download(combined, n_states);
  if (values) j.d_values.download(values, n_states * static_cast<size_t>(n_nets));
}

double time_score_kernels(const SparseFeatures& x, const DeviceValueNets& nets, const float* betas, int repeats) {
  validate_score_inputs(x, nets.views().data(), nets.size(), betas);
  if (x.n_states == 0 || nets.size() == 0 || repeats < 1) return 0.0;
  ScoreJob j;
  prepare(j, x, nets, betas);
  j.launch(true);  // warm-up
  check_launch("score_values kernels");
  cudaEvent_t a, b;
  check(cudaEventCreate(&a), "cudaEventCreate");
  check(cudaEventCreate(&b), "cudaEventCreate");
  cudaEventRecord(a);
  for (int r = 0; r < repeats; ++r) j.launch(true);
  cudaEventRecord(b);
  check(cudaEventSynchronize(b), "cudaEventSynchronize");
  float ms = 0.0f;
  cudaEventElapsedTime(&ms, a, b);
  cudaEventDestroy(a);
  cudaEventDestroy(b);
  return static_cast<double>(ms) / repeats;
}

double peak_memory_bandwidth_gbs() {
  int clock_khz = 0, bus_bits = 0;
  if (cudaDeviceGetAttribute(&clock_khz, cudaDevAttrMemoryClockRate, 0) != cudaSuccess ||
      cudaDeviceGetAttribute(&bus_bits, cudaDevAttrGlobalMemoryBusWidth, 0) != cudaSuccess) {
    cudaGetLastError();
    return 0.0;
  }
  return 2.0 * clock_khz * 1e3 * (bus_bits / 8.0) / 1e9;  // double data rate
}

void score_values(const SparseFeatures& x, const ValueNetView* nets, int32_t n_nets, const float* betas, float* values,
                  float* combined, int threads) {
  validate_score_inputs(x, nets, n_nets, betas);
  const DeviceValueNets dev(nets, n_nets);
  score_values(x, dev, betas, values, combined);
}

}  // namespace iro::cuda
