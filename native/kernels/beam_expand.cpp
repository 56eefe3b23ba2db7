#include "native/kernels/beam_expand.h"

#include <algorithm>
#include <cstring>
#include <limits>
#include <string>

#include "native/common/error.h"
#include "native/common/threads.h"

namespace iro {

BeamLayout plan_beams(const BeamBatch& b) {
  IRO_REQUIRE_ARG(b.n_requests >= 0, "number of requests must be >= 0, got " + std::to_string(b.n_requests));
  BeamLayout L;
  L.slot_offsets.assign(static_cast<size_t>(b.n_requests) + 1, 0);
  L.fork_offsets.assign(static_cast<size_t>(b.n_requests) + 1, 0);
  if (b.n_requests == 0) return L;
  IRO_REQUIRE_ARG(b.parent_offsets && b.k, "parent offsets and k are required");
  IRO_REQUIRE_ARG(b.parent_offsets[0] == 0, "parent offsets must start at 0");
  int64_t total = 0;
  for (int32_t r = 0; r < b.n_requests; ++r) {
    const int32_t w = b.parent_offsets[r + 1] - b.parent_offsets[r];
    const std::string req = "request " + std::to_string(r);
    IRO_REQUIRE_ARG(w >= 1, req + " has no parents; every request needs at least one");
    IRO_REQUIRE_ARG(b.k[r] >= 1, req + ": k must be >= 1, got " + std::to_string(b.k[r]));
    total += static_cast<int64_t>(w) * b.k[r];
    IRO_REQUIRE_ARG(total <= std::numeric_limits<int32_t>::max() / 2, "too many child slots in one batch");
    L.slot_offsets[r + 1] = static_cast<int32_t>(total);
  }
  IRO_REQUIRE_ARG(b.parents != nullptr, "parents are required");
  const size_t n = static_cast<size_t>(total);
  L.child_parent.assign(n, -1);
  L.child_parent_index.assign(n, -1);
  L.child_number.assign(n, -1);
  for (int32_t r = 0; r < b.n_requests; ++r) {
    const int32_t p0 = b.parent_offsets[r], w = b.parent_offsets[r + 1] - p0, k = b.k[r], slots = w * k, base = L.slot_offsets[r];
    for (int32_t i = 0; i < w; ++i) {
      const int32_t p = b.parents[p0 + i];
      IRO_REQUIRE_ARG(p >= 0 && p < slots, "request " + std::to_string(r) + ": parent slot " + std::to_string(p) + " is outside 0.." +
                                           std::to_string(slots - 1) + " (w*k slots)");
    }
    int32_t* cp = L.child_parent.data() + base;
    int32_t* ci = L.child_parent_index.data() + base;
    int32_t* cn = L.child_number.data() + base;
    // Step 1: the first child of each distinct parent keeps the parent's slot.
    std::vector<char> first_kept(static_cast<size_t>(w), 0);
    for (int32_t i = 0; i < w; ++i) {
      const int32_t p = b.parents[p0 + i];
      if (cp[p] < 0) {
        cp[p] = p;
        ci[p] = i;
        cn[p] = 0;
        first_kept[i] = 1;
      }
    }
    // Step 2: the others take the lowest free slots in child order.
    int32_t free_slot = 0;
    for (int32_t i = 0; i < w; ++i) {
      for (int32_t j = first_kept[i] ? 1 : 0; j < k; ++j) {
        while (cp[free_slot] >= 0) ++free_slot;
        cp[free_slot] = b.parents[p0 + i];
        ci[free_slot] = i;
        cn[free_slot] = j;
      }
    }
    for (int32_t s = 0; s < slots; ++s)
      if (cp[s] != s) L.forks.push_back(ForkOp{s, cp[s]});
    L.fork_offsets[r + 1] = static_cast<int32_t>(L.forks.size());
  }
  return L;
}

namespace {
int32_t request_of(const BeamLayout& L, int32_t g) {
  return static_cast<int32_t>(std::upper_bound(L.slot_offsets.begin(), L.slot_offsets.end(), g) - L.slot_offsets.begin()) - 1;
}
}  // namespace

void copy_histories(const BeamLayout& L, const BeamHistories& h) {
  const int32_t total = L.total_slots();
  if (total == 0) return;
  IRO_REQUIRE_ARG(h.lengths != nullptr, "history lengths are required");
  IRO_REQUIRE_ARG(h.capacity >= 0, "history capacity must be >= 0");
  for (int32_t g = 0; g < total; ++g)
    IRO_REQUIRE_ARG(h.lengths[g] >= 0 && h.lengths[g] <= h.capacity, "history length of slot " + std::to_string(g) + " is " +
                                                                     std::to_string(h.lengths[g]) + ", outside 0.." + std::to_string(h.capacity));
  const size_t cap = static_cast<size_t>(h.capacity);
  for (int32_t r = 0; r + 1 < static_cast<int32_t>(L.slot_offsets.size()); ++r) {
    const int32_t base = L.slot_offsets[r];
    for (int32_t f = L.fork_offsets[r]; f < L.fork_offsets[r + 1]; ++f) {
      const int32_t dst = base + L.forks[f].dst_slot, src = base + L.forks[f].src_slot;
      h.lengths[dst] = h.lengths[src];
      if (h.tokens && h.lengths[src] > 0)
        std::memcpy(h.tokens + dst * cap, h.tokens + src * cap, sizeof(int32_t) * static_cast<size_t>(h.lengths[src]));
    }
  }
}

void validate_beam_sampling(const BeamLayout& L, const BeamLogits& lg, const BeamSampling& sp, const int32_t* lengths) {
  const int32_t total = L.total_slots();
  const int32_t n_requests = static_cast<int32_t>(L.slot_offsets.size()) - 1;
  if (total == 0) return;
  IRO_REQUIRE_ARG(lg.logits != nullptr && lg.n_vocab >= 1, "logits and n_vocab >= 1 are required");
  IRO_REQUIRE_ARG(lg.n_rows >= 0, "number of logits rows must be >= 0");
  IRO_REQUIRE_ARG(lengths != nullptr, "history lengths are required (they are the positions of the sampled tokens)");
  IRO_REQUIRE_ARG(sp.params != nullptr && (sp.n_params == 1 || sp.n_params == n_requests),
              "sampling params: give one set or one per request (" + std::to_string(n_requests) + ")");
  for (int32_t i = 0; i < sp.n_params; ++i) validate_sampling(sp.params[i]);
  for (int32_t g = 0; g < total; ++g) {
    const int32_t r = request_of(L, g);
    const int32_t pg = L.slot_offsets[r] + L.child_parent[g];
    const int32_t row = lg.rows ? lg.rows[pg] : pg;
    IRO_REQUIRE_ARG(row >= 0 && row < lg.n_rows, "logits row " + std::to_string(row) + " of slot " + std::to_string(pg) + " is outside 0.." +
                                                 std::to_string(lg.n_rows - 1));
    IRO_REQUIRE_ARG(lengths[pg] >= 0, "history length of slot " + std::to_string(pg) + " is negative");
  }
}

void sample_children(const BeamLayout& L, const BeamLogits& lg, const BeamSampling& sp, const int32_t* lengths, int32_t* tokens,
                     float* logprobs, int threads) {
  validate_beam_sampling(L, lg, sp, lengths);
  const int32_t total = L.total_slots();
  if (total == 0) return;
  IRO_REQUIRE_ARG(tokens != nullptr, "tokens output is required");
  parallel_for(static_cast<size_t>(total), threads, 4, [&](size_t b, size_t e) {
    SamplerScratch scratch;
    for (size_t gi = b; gi < e; ++gi) {
      const int32_t g = static_cast<int32_t>(gi);
      const int32_t r = request_of(L, g);
      const int32_t local = g - L.slot_offsets[r];
      const int32_t pg = L.slot_offsets[r] + L.child_parent[g];
      const int32_t row = lg.rows ? lg.rows[pg] : pg;
      const RngKey key{sp.seed, sp.request_ids ? sp.request_ids[r] : static_cast<uint32_t>(r), static_cast<uint32_t>(local),
                       static_cast<uint32_t>(lengths[pg]), 0};
      const SamplingParams& p = sp.params[sp.n_params == 1 ? 0 : r];
      const SampledToken t = sample_token(lg.logits + static_cast<size_t>(row) * static_cast<size_t>(lg.n_vocab), lg.n_vocab, p, key, scratch);
      tokens[g] = t.token;
      if (logprobs) logprobs[g] = t.logprob;
    }
  });
}

namespace {

// Every length in 0..capacity and every parent's length < capacity (CONTEXT_OVERFLOW otherwise).
void check_histories_for_append(const BeamLayout& L, const BeamHistories& h) {
  const int32_t total = L.total_slots();
  if (total == 0) return;
  IRO_REQUIRE_ARG(h.lengths != nullptr, "history lengths are required");
  IRO_REQUIRE_ARG(h.capacity >= 0, "history capacity must be >= 0");
  for (int32_t g = 0; g < total; ++g) {
    IRO_REQUIRE_ARG(h.lengths[g] >= 0 && h.lengths[g] <= h.capacity, "history length of slot " + std::to_string(g) + " is " +
                                                                     std::to_string(h.lengths[g]) + ", outside 0.." + std::to_string(h.capacity));
    const int32_t pg = L.slot_offsets[request_of(L, g)] + L.child_parent[g];
    if (h.lengths[pg] >= h.capacity)
      fail(codes::kContextOverflow, "history of slot " + std::to_string(pg) + " is full (capacity " + std::to_string(h.capacity) +
                                        "); raise the history capacity or stop the request");
  }
}

// Writes e.tokens[g] at position lengths[g] of slot g's history (when tokens is set); lengths grow by 1.
void append_tokens(const BeamExpansion& e, const BeamHistories& h) {
  const int32_t total = e.layout.total_slots();
  for (int32_t g = 0; g < total; ++g) {
    if (h.tokens) h.tokens[static_cast<size_t>(g) * static_cast<size_t>(h.capacity) + static_cast<size_t>(h.lengths[g])] = e.tokens[g];
    h.lengths[g] += 1;
  }
}

}  // namespace

BeamExpansion expand_beams_with(SampleChildrenFn sample, const BeamBatch& batch, const BeamLogits& logits,
                                const BeamSampling& sampling, const BeamHistories& h, int threads) {
  BeamExpansion out;
  out.layout = plan_beams(batch);
  const int32_t total = out.layout.total_slots();
  if (total == 0) return out;
  IRO_REQUIRE_ARG(h.lengths != nullptr, "history lengths are required");
  validate_beam_sampling(out.layout, logits, sampling, h.lengths);
  check_histories_for_append(out.layout, h);
  copy_histories(out.layout, h);
  out.tokens.resize(static_cast<size_t>(total));
  out.logprobs.resize(static_cast<size_t>(total));
  sample(out.layout, logits, sampling, h.lengths, out.tokens.data(), out.logprobs.data(), threads);
  append_tokens(out, h);
  return out;
}

BeamExpansion expand_beams(const BeamBatch& batch, const BeamLogits& logits, const BeamSampling& sampling,
                           const BeamHistories& h, int threads) {
  return expand_beams_with(sample_children, batch, logits, sampling, h, threads);
}

}  // namespace iro
