#include "native/engine/sequence_slots.h"

#include <string>

#include "llama.h"
#include "native/common/error.h"

namespace iro::engine {

struct SequenceSlots::Segment {
  explicit Segment(std::shared_ptr<int64_t> counter) : counter(std::move(counter)) {}
  ~Segment() { *counter -= cells; }
  std::shared_ptr<int64_t> counter;
  int64_t cells = 0;
};

SequenceSlots::SequenceSlots(llama_context* ctx, int32_t n_seq_max, int64_t n_ctx)
    : ctx_(ctx), n_seq_max_(n_seq_max), n_ctx_(n_ctx), slots_(static_cast<size_t>(n_seq_max)), cells_used_(std::make_shared<int64_t>(0)) {
  for (int32_t i = n_seq_max - 1; i >= 0; --i) free_.push_back(i);
}

SequenceSlots::~SequenceSlots() = default;

int32_t SequenceSlots::acquire() {
  if (free_.empty()) fail(codes::kInternal, "no free sequence slot (admission should have reserved one)");
  const int32_t id = free_.back();
  free_.pop_back();
  Slot& s = slots_[static_cast<size_t>(id)];
  s.live = true;
  s.length = 0;
  s.segments.clear();
  return id;
}

int32_t SequenceSlots::fork(int32_t src) {
  const Slot& from = slots_.at(static_cast<size_t>(src));
  if (!from.live) fail(codes::kInternal, "fork of a dead sequence " + std::to_string(src));
  const int32_t id = acquire();
  llama_memory_seq_cp(llama_get_memory(ctx_), src, id, -1, -1);
  Slot& to = slots_[static_cast<size_t>(id)];
  to.length = from.length;
  to.segments = from.segments;  // shared ownership: no new cells
  ++forks_;
  return id;
}

void SequenceSlots::prune(int32_t seq) {
  Slot& s = slots_.at(static_cast<size_t>(seq));
  if (!s.live) return;
  llama_memory_seq_rm(llama_get_memory(ctx_), seq, -1, -1);
  s.live = false;
  s.length = 0;
  s.segments.clear();  // cells owned only by this sequence are released here
  free_.push_back(seq);
  ++prunes_;
}

void SequenceSlots::appended(int32_t seq, int32_t n) {
  Slot& s = slots_.at(static_cast<size_t>(seq));
  // Extend our own tail segment unless a fork shares it (then its cells are not ours alone).
  if (s.segments.empty() || s.segments.back().use_count() > 1) s.segments.push_back(std::make_shared<Segment>(cells_used_));
  s.segments.back()->cells += n;
  *cells_used_ += n;
  s.length += n;
}

void SequenceSlots::clear() {
  llama_memory_clear(llama_get_memory(ctx_), true);
  free_.clear();
  for (int32_t i = n_seq_max_ - 1; i >= 0; --i) {
    Slot& s = slots_[static_cast<size_t>(i)];
    s.live = false;
    s.length = 0;
    s.segments.clear();
    free_.push_back(i);
  }
}

int32_t SequenceSlots::length(int32_t seq) const { return slots_.at(static_cast<size_t>(seq)).length; }

KvStats SequenceSlots::stats() const {
  KvStats k;
  k.cells_used = *cells_used_;
  k.cells_total = n_ctx_;
  k.free_sequences = free_count();
  k.live_sequences = n_seq_max_ - k.free_sequences;
  k.forks = forks_;
  k.prunes = prunes_;
  return k;
}

}  // namespace iro::engine
