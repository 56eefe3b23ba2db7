// Chunk-level beam expansion (DESIGN.md §4.3): from the parents chosen for each request, lay out
// the w*k child slots, plan the minimal sequence forks, copy token histories and sample the first
// token of every child. CPU reference; cuda/beam_expand.h is its twin (same plan, same tokens).
//
// Slots are LOCAL to a request: request r owns slots 0 .. w_r*k_r - 1 (its previous generation had
// the same number). In flat buffers, request r's slots start at slot_offsets[r] (the prefix sum of
// w_r*k_r), so global slot = slot_offsets[r] + local slot.
//
// Layout of request r (parents p_0 .. p_{w-1}, local slots, repeats allowed):
//   child (i, j) is the j-th of the k children of parent entry i.
//   1. for i = 0 .. w-1: if slot p_i is not yet claimed, child (i, 0) takes slot p_i (it keeps its
//      parent's sequence: no fork).
//   2. every other child, in order (i ascending, then j ascending), takes the lowest unclaimed slot.
// Fork plan: every slot s whose parent slot p != s needs seq_rm(s) then seq_cp(p -> s); ops are listed
// per request by ascending dst. Sources are always parent slots, which step 1 keeps, so no op ever
// overwrites a slot that a later op copies from (any order is safe; the one given is canonical).
// The number of forks is w*k minus the number of distinct parents, the minimum possible.
//
// Token sampling: child slot s of request r samples from its parent's logits row with
// iro::sample_token (native/kernels/sampler.h) and RngKey{seed, request, sequence = s (local child
// slot), position = the parent's history length, lane 0}, where request = request_ids ? request_ids[r]
// : r. These are the keys the engine's sampler uses for that position.
#pragma once
#include <cstdint>
#include <vector>

#include "native/kernels/sampler.h"

namespace iro {

struct ForkOp {
  int32_t dst_slot;  // local slot that is cleared (seq_rm) and receives the copy
  int32_t src_slot;  // local parent slot copied from (seq_cp src -> dst)
};

// Chosen parents of every request in a batch.
struct BeamBatch {
  int32_t n_requests = 0;
  const int32_t* parent_offsets = nullptr;  // [n_requests + 1], parent_offsets[0] == 0, non-decreasing;
                                            // w_r = parent_offsets[r+1] - parent_offsets[r] >= 1
  const int32_t* parents = nullptr;         // local parent slots, each in 0 .. w_r*k_r - 1
  const int32_t* k = nullptr;               // [n_requests] children per parent, >= 1
};

struct BeamLayout {
  std::vector<int32_t> slot_offsets;        // [n_requests + 1]: first global slot of each request
  std::vector<int32_t> child_parent;        // [total slots]: local parent slot of each (global) child slot
  std::vector<int32_t> child_parent_index;  // [total slots]: i, the parent entry it descends from
  std::vector<int32_t> child_number;        // [total slots]: j, its number among that entry's k children
  std::vector<ForkOp> forks;                // local slots, grouped by request, dst ascending
  std::vector<int32_t> fork_offsets;        // [n_requests + 1]: forks of request r
  int32_t total_slots() const { return slot_offsets.empty() ? 0 : slot_offsets.back(); }
};

// Token histories of all slots: tokens [total_slots x capacity] (row = global slot), lengths [total_slots].
struct BeamHistories {
  int32_t* tokens = nullptr;   // nullable: then only lengths are tracked
  int32_t* lengths = nullptr;  // required, each in 0 .. capacity
  int32_t capacity = 0;
};

// The logits the parents produced at their last step: row rows[g] (or g when rows is null) of the
// [n_rows x n_vocab] matrix belongs to global slot g (only parent slots are read).
struct BeamLogits {
  const float* logits = nullptr;
  int32_t n_vocab = 0;
  int32_t n_rows = 0;
  const int32_t* rows = nullptr;  // nullable: row = global slot (then n_rows >= total slots)
};

struct BeamSampling {
  const SamplingParams* params = nullptr;  // n_params == 1 (shared) or n_requests (one per request)
  int32_t n_params = 1;
  uint64_t seed = 0;
  const uint32_t* request_ids = nullptr;   // nullable: request = index in the batch
};

// Validates the batch (INVALID_ARGUMENT naming the request) and computes the layout + fork plan.
BeamLayout plan_beams(const BeamBatch& batch);

// Copies the history (tokens and length) of each child slot from its parent slot, in place.
// Checks lengths (0..capacity) first; writes nothing on error.
void copy_histories(const BeamLayout& layout, const BeamHistories& h);

// Samples the first token of every child slot (see the header comment). `lengths` are the parents'
// history lengths indexed by global slot (positions of the sampled tokens). tokens [total slots]
// required; logprobs (the model's log-probability at temperature 1) nullable. threads < 1 means 1.
void sample_children(const BeamLayout& layout, const BeamLogits& logits, const BeamSampling& sampling,
                     const int32_t* lengths, int32_t* tokens, float* logprobs, int threads);

struct BeamExpansion {
  BeamLayout layout;
  std::vector<int32_t> tokens;   // [total slots] first token of each child
  std::vector<float> logprobs;   // [total slots]
};

// All of it: plan, copy histories, sample every child's first token and append it to the child's
// history (lengths grow by 1; every parent needs length < capacity, checked before anything is written).
BeamExpansion expand_beams(const BeamBatch& batch, const BeamLogits& logits, const BeamSampling& sampling,
                           const BeamHistories& histories, int threads);

// expand_beams with the sampling step passed in: the CUDA twin gives its own sample_children, so
// planning, the checks and the history bookkeeping exist once.
using SampleChildrenFn = void (*)(const BeamLayout& layout, const BeamLogits& logits, const BeamSampling& sampling,
                                  const int32_t* lengths, int32_t* tokens, float* logprobs, int threads);
BeamExpansion expand_beams_with(SampleChildrenFn sample, const BeamBatch& batch, const BeamLogits& logits,
                                const BeamSampling& sampling, const BeamHistories& histories, int threads);

// Shared argument checks of the sampling step (also used by the CUDA twin).
void validate_beam_sampling(const BeamLayout& layout, const BeamLogits& logits, const BeamSampling& sampling,
                            const int32_t* lengths);

}  // namespace iro
