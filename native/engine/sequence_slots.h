// Sequence slots of the unified KV cache: recycled sequence ids, zero-copy forks
// (llama_memory_seq_cp: the child's ids are added to the parent's cells, nothing is copied) and
// prunes (llama_memory_seq_rm). A ledger of shared token segments counts the KV cells in use the
// way the unified cache does: a cell shared by forks counts once, and is freed with its last owner.
#pragma once
#include <cstdint>
#include <memory>
#include <vector>

struct llama_context;

namespace iro::engine {

struct KvStats {
  int64_t cells_used = 0;    // distinct KV cells holding live tokens
  int64_t cells_total = 0;   // n_ctx
  int32_t live_sequences = 0;
  int32_t free_sequences = 0;
  int64_t forks = 0;         // seq_cp calls so far
  int64_t prunes = 0;        // seq_rm calls so far
};

class SequenceSlots {
 public:
  SequenceSlots(llama_context* ctx, int32_t n_seq_max, int64_t n_ctx);
  ~SequenceSlots();

  // A fresh, empty sequence id; throws INTERNAL if none is free (admission reserves them first).
  int32_t acquire();
  // New sequence sharing every cell of `src` (zero-copy). Returns the child's id.
  int32_t fork(int32_t src);
  // Removes the sequence from the cache and recycles its id.
  void prune(int32_t seq);
  // Records that `n` new tokens were decoded into `seq` (each occupies a new cell).
  void appended(int32_t seq, int32_t n);
  // Removes every sequence (used on context errors and shutdown).
  void clear();

  int32_t free_count() const { return static_cast<int32_t>(free_.size()); }
  int32_t n_seq_max() const { return n_seq_max_; }
  int32_t length(int32_t seq) const;  // tokens in the sequence (= next position)
  KvStats stats() const;

 private:
  struct Segment;  // cells appended by one owner; shared after a fork
  struct Slot {
    bool live = false;
    int32_t length = 0;
    std::vector<std::shared_ptr<Segment>> segments;
  };
  llama_context* ctx_;
  int32_t n_seq_max_;
  int64_t n_ctx_;
  std::vector<Slot> slots_;
  std::vector<int32_t> free_;  // LIFO: recently freed ids are reused first
  std::shared_ptr<int64_t> cells_used_;
  int64_t forks_ = 0, prunes_ = 0;
};

}  // namespace iro::engine
