// The scheduler owns the llama_context. One thread runs steps; concurrent submissions join the
// next step. Each step decodes every live sequence of every active request (plus the prompts of
// newly admitted requests) in one llama_decode, then samples each sequence with iro::sample_token
// and calls the requests' policy hooks.
#pragma once
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "native/engine/batch.h"
#include "native/engine/context.h"
#include "native/engine/policy.h"
#include "native/engine/sequence_slots.h"

namespace iro::engine {

struct RequestOutcome {
  RequestResult result;
  std::string error_code;  // empty on success
  std::string error_message;
};

// Called once per request on the scheduler thread (never under the scheduler's lock).
using Completion = std::function<void(RequestOutcome&&)>;

struct SchedulerStats {
  KvStats kv;
  int64_t steps = 0;
  int32_t queued = 0;
  int32_t active = 0;
};

class Scheduler {
 public:
  Scheduler(std::shared_ptr<Model> model, const ContextOptions& options);
  ~Scheduler();  // aborts in-flight requests (DISPOSED) and joins the thread
  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;

  // Validates synchronously (throws INVALID_ARGUMENT, CONTEXT_OVERFLOW, TOO_MANY_SEQUENCES,
  // DISPOSED) and queues the request. Returns its id.
  //
  // hold = true keeps the request (and every later one) out of admission until a submission with
  // hold = false, or release(), lets the whole group in at once: a group submitted together is
  // then admitted the same way every time, whatever the threads' timing.
  uint64_t submit(RequestSpec spec, std::unique_ptr<RequestPolicy> policy, Completion done, bool hold = false);
  // Lets held requests be admitted (after a failed group submission, for example).
  void release();
  // Stops a request between steps; it completes with ABORTED. Unknown / finished ids are ignored.
  void abort(uint64_t id);
  // Completes every request (DISPOSED) and stops the thread. Idempotent.
  void shutdown();

  SchedulerStats stats() const;
  const Model& model() const { return *model_; }
  const Context& context() const { return *ctx_; }
  std::shared_ptr<Model> model_ptr() const { return model_; }

 private:
  struct Request;
  class Ops;
  void run();
  void step(std::vector<std::shared_ptr<Request>>& admitted);
  void finish(const std::shared_ptr<Request>& r, const char* code, const std::string& message);
  void release_sequences(Request& r);
  void sample_live(Request& r);
  void process_outputs(Request& r, bool prefilled);

  std::shared_ptr<Model> model_;
  std::unique_ptr<Context> ctx_;
  std::unique_ptr<SequenceSlots> slots_;
  std::unique_ptr<Batch> batch_;
  SamplerScratch scratch_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::shared_ptr<Request>> queue_;   // submitted, not yet admitted
  std::vector<std::shared_ptr<Request>> active_; // scheduler thread only
  std::unordered_map<uint64_t, std::shared_ptr<std::atomic<bool>>> abort_flags_;
  uint64_t next_id_ = 1;
  bool stopping_ = false;
  int32_t reserved_seqs_ = 0;  // scheduler thread only
  int64_t reserved_cells_ = 0;
  std::atomic<int64_t> steps_{0};
  std::atomic<int32_t> active_count_{0};
  KvStats kv_snapshot_;        // published under mu_ after each step
  std::thread thread_;
};

}  // namespace iro::engine
