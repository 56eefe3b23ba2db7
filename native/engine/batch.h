// A reusable llama_batch (RAII). Every token carries exactly one sequence id: forks share KV cells
// through llama_memory_seq_cp, never through multi-sequence batch entries.
#pragma once
#include <cstdint>

#include "llama.h"

namespace iro::engine {

class Batch {
 public:
  explicit Batch(int32_t capacity);
  ~Batch();
  Batch(const Batch&) = delete;
  Batch& operator=(const Batch&) = delete;

  void clear() { batch_.n_tokens = 0; n_outputs_ = 0; }
  // Returns the index of the token in the batch (its output row index when `output`).
  int32_t add(int32_t token, int32_t pos, int32_t seq, bool output);
  int32_t size() const { return batch_.n_tokens; }
  int32_t capacity() const { return capacity_; }
  int32_t n_outputs() const { return n_outputs_; }
  // A view of tokens [begin, begin + n) for decoding a part of the batch.
  llama_batch view(int32_t begin, int32_t n) const;
  const llama_batch& get() const { return batch_; }

 private:
  llama_batch batch_;
  int32_t capacity_;
  int32_t n_outputs_ = 0;
};

}  // namespace iro::engine
