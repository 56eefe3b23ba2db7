#include "cuda/beam_expand.h"

#include <cub/device/device_segmented_sort.cuh>

#include <algorithm>
#include <string>
#include <unordered_map>
#include <vector>

#include "cuda/cuda_util.cuh"
#include "cuda/sampler.cuh"

namespace iro::cuda {
namespace {

constexpr int kThreads = 128;

__global__ void iota_rows_kernel(const float* __restrict__ in, float* __restrict__ keys, int32_t* __restrict__ ids, int32_t n_vocab, size_t n) {
  const int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i >= static_cast<int64_t>(n)) return;
  keys[i] = __fadd_rn(in[i], 0.0f);  // -0 -> +0: the CPU compares them equal (an rn op is never folded away)
  ids[i] = static_cast<int32_t>(i % n_vocab);
}

__global__ void sample_kernel(const float* __restrict__ rows, const float* __restrict__ sorted, const int32_t* __restrict__ sorted_ids,
                              int32_t n_vocab, const int32_t* __restrict__ child_row, const SamplingParams* __restrict__ params,
                              const int32_t* __restrict__ child_param, const RngKey* __restrict__ keys, int32_t n_children,
                              int32_t* __restrict__ tokens, float* __restrict__ logprobs) {
  const int64_t g = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (g >= n_children) return;
  const size_t base = static_cast<size_t>(child_row[g]) * n_vocab;
  float lp = 0.0f;
  tokens[g] = device_sample_token(rows + base, sorted ? sorted + base : nullptr, sorted_ids ? sorted_ids + base : nullptr, n_vocab,
                                  params[child_param[g]], keys[g], &lp);
  logprobs[g] = lp;
}

}  // namespace

void sample_children(const BeamLayout& L, const BeamLogits& lg, const BeamSampling& sp, const int32_t* lengths, int32_t* tokens,
                     float* logprobs, int threads) {
  validate_beam_sampling(L, lg, sp, lengths);
  const int32_t total = L.total_slots();
  if (total == 0) return;
  IRO_REQUIRE_ARG(tokens != nullptr, "tokens output is required");
  // Host bookkeeping: the distinct logits rows the parents need, and every child's key.
  std::unordered_map<int32_t, int32_t> compact;
  std::vector<int32_t> used_rows, child_row(static_cast<size_t>(total)), child_param(static_cast<size_t>(total));
  std::vector<RngKey> keys(static_cast<size_t>(total));
  bool any_random = false;
  for (int32_t i = 0; i < sp.n_params; ++i) any_random = any_random || sp.params[i].temperature > 0.0f;
  for (int32_t r = 0; r + 1 < static_cast<int32_t>(L.slot_offsets.size()); ++r) {
    for (int32_t g = L.slot_offsets[r]; g < L.slot_offsets[r + 1]; ++g) {
      const int32_t pg = L.slot_offsets[r] + L.child_parent[g];
      const int32_t row = lg.rows ? lg.rows[pg] : pg;
      auto it = compact.find(row);
      if (it == compact.end()) {
        it = compact.emplace(row, static_cast<int32_t>(used_rows.size())).first;
        used_rows.push_back(row);
      }
      child_row[g] = it->second;
      child_param[g] = sp.n_params == 1 ? 0 : r;
      keys[g] = RngKey{sp.seed, sp.request_ids ? sp.request_ids[r] : static_cast<uint32_t>(r),
                       static_cast<uint32_t>(g - L.slot_offsets[r]), static_cast<uint32_t>(lengths[pg]), 0};
    }
  }
  const size_t V = static_cast<size_t>(lg.n_vocab), nu = used_rows.size();
  std::vector<float> packed(nu * V);
  for (size_t u = 0; u < nu; ++u) std::copy_n(lg.logits + static_cast<size_t>(used_rows[u]) * V, V, packed.data() + u * V);
  DeviceBuffer<float> d_rows, d_keys_in, d_sorted;
  DeviceBuffer<int32_t> d_ids_in, d_sorted_ids, d_child_row, d_child_param, d_tokens(static_cast<size_t>(total));
  DeviceBuffer<float> d_logprobs(static_cast<size_t>(total));
  DeviceBuffer<SamplingParams> d_params;
  DeviceBuffer<RngKey> d_keys;
  d_rows.upload(packed.data(), packed.size());
  d_child_row.upload(child_row.data(), child_row.size());
  d_child_param.upload(child_param.data(), child_param.size());
  d_params.upload(sp.params, static_cast<size_t>(sp.n_params));
  d_keys.upload(keys.data(), keys.size());
  if (any_random) {
    const size_t n = nu * V;
    d_keys_in.resize(n);
    d_ids_in.resize(n);
    d_sorted.resize(n);
    d_sorted_ids.resize(n);
    iota_rows_kernel<<<static_cast<unsigned>((n + 255) / 256), 256>>>(d_rows.get(), d_keys_in.get(), d_ids_in.get(), lg.n_vocab, n);
    check_launch("sampler row setup");
    // Rows are sorted in batches whose int32 segment offsets cannot overflow (nu * V may exceed 2^31
    // for large vocabularies and many distinct parent rows).
    const size_t rows_per = std::max<size_t>(1, (size_t{1} << 30) / V);
    const size_t batch = std::min(nu, rows_per);
    std::vector<int32_t> seg(batch + 1);
    for (size_t u = 0; u <= batch; ++u) seg[u] = static_cast<int32_t>(u * V);
    DeviceBuffer<int32_t> d_seg;
    d_seg.upload(seg.data(), seg.size());
    DeviceBuffer<unsigned char> temp;
    for (size_t u0 = 0; u0 < nu; u0 += batch) {
      const size_t rows = std::min(batch, nu - u0), base = u0 * V;
      size_t temp_bytes = 0;
      check(cub::DeviceSegmentedSort::StableSortPairsDescending(nullptr, temp_bytes, d_keys_in.get() + base, d_sorted.get() + base,
                                                                 d_ids_in.get() + base, d_sorted_ids.get() + base,
                                                                 static_cast<int64_t>(rows * V), static_cast<int64_t>(rows), d_seg.get(),
                                                                 d_seg.get() + 1),
            "sampler sort (size)");
      if (temp.size() < std::max<size_t>(temp_bytes, 1)) temp.resize(std::max<size_t>(temp_bytes, 1));
      check(cub::DeviceSegmentedSort::StableSortPairsDescending(temp.get(), temp_bytes, d_keys_in.get() + base, d_sorted.get() + base,
                                                                 d_ids_in.get() + base, d_sorted_ids.get() + base,
                                                                 static_cast<int64_t>(rows * V), static_cast<int64_t>(rows), d_seg.get(),
                                                                 d_seg.get() + 1),
            "sampler sort");
    }
    check_launch("sampler sort");
  }
  sample_kernel<<<static_cast<unsigned>((total + kThreads - 1) / kThreads), kThreads>>>(
      d_rows.get(), any_random ? d_sorted.get() : nullptr, any_random ? d_sorted_ids.get() : nullptr, lg.n_vocab, d_child_row.get(),
      d_params.get(), d_child_param.get(), d_keys.get(), total, d_tokens.get(), d_logprobs.get());
  check_launch("sampler kernel");
  d_tokens.download(tokens, static_cast<size_t>(total));
  if (logprobs) d_logprobs.download(logprobs, static_cast<size_t>(total));
}

BeamExpansion expand_beams(const BeamBatch& batch, const BeamLogits& logits, const BeamSampling& sampling, const BeamHistories& h,
                           int threads) {
  return expand_beams_with(iro::cuda::sample_children, batch, logits, sampling, h, threads);
}

}  // namespace iro::cuda
