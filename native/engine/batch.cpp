#include "native/engine/batch.h"

#include "native/common/error.h"

namespace iro::engine {

Batch::Batch(int32_t capacity) : batch_(llama_batch_init(capacity, 0, 1)), capacity_(capacity) {}

Batch::~Batch() { llama_batch_free(batch_); }

int32_t Batch::add(int32_t token, int32_t pos, int32_t seq, bool output) {
  if (batch_.n_tokens >= capacity_) fail(codes::kInternal, "batch capacity exceeded");
  const int32_t i = batch_.n_tokens++;
  batch_.token[i] = token;
  batch_.pos[i] = pos;
  batch_.n_seq_id[i] = 1;
  batch_.seq_id[i][0] = seq;
  batch_.logits[i] = output ? 1 : 0;
  if (output) ++n_outputs_;
  return i;
}

llama_batch Batch::view(int32_t begin, int32_t n) const {
  llama_batch v = batch_;
  v.n_tokens = n;
  v.token += begin;
  v.pos += begin;
  v.n_seq_id += begin;
  v.seq_id += begin;
  v.logits += begin;
  return v;
}

}  // namespace iro::engine
