#include "native/engine/scheduler.h"

#include <algorithm>

#include <chrono>

#include "llama.h"
#include "native/common/error.h"

namespace iro::engine {
namespace {
using Clock = std::chrono::steady_clock;
double ms_since(Clock::time_point t) { return std::chrono::duration<double, std::milli>(Clock::now() - t).count(); }
}  // namespace

struct Scheduler::Request {
  enum class Phase { kQueued, kPrefill, kGenerate };
  uint64_t id = 0;
  RequestState state;
  std::unique_ptr<RequestPolicy> policy;
  std::unique_ptr<Ops> ops;
  Completion done;
  std::shared_ptr<std::atomic<bool>> aborted;
  int32_t need_seqs = 0;
  int64_t need_cells = 0;
  Phase phase = Phase::kQueued;
  Clock::time_point submitted, admitted;
  bool completed = false;
  bool held = false;  // guarded by mu_: part of a group still being submitted
};

class Scheduler::Ops final : public SequenceOps {
 public:
  Ops(Scheduler& s, Request& r) : s_(s), r_(r) {}
  Candidate& fork(int32_t parent_index) override {
    auto& cs = r_.state.candidates;
    IRO_REQUIRE_ARG(parent_index >= 0 && static_cast<size_t>(parent_index) < cs.size(), "fork: no candidate " + std::to_string(parent_index));
    if (!cs[parent_index].live() || cs[parent_index].seq < 0) fail(codes::kInternal, "fork of a finished candidate");
    if (r_.state.live_count() >= r_.need_seqs) fail(codes::kInternal, "policy forked beyond its max_live_sequences");
    const int32_t seq = s_.slots_->fork(cs[parent_index].seq);
    Candidate child = cs[parent_index];
    child.index = static_cast<int32_t>(cs.size());
    child.parent = parent_index;
    child.seq = seq;
    cs.push_back(std::move(child));
    ++r_.state.stats.forks;
    r_.state.stats.max_live_sequences = std::max(r_.state.stats.max_live_sequences, r_.state.live_count());
    return cs.back();
  }
  void prune(int32_t index) override {
    Candidate& c = r_.state.candidates.at(static_cast<size_t>(index));
    if (!c.live()) return;
    if (c.seq >= 0) s_.slots_->prune(c.seq);
    c.seq = -1;
    c.finished = true;
    c.reason = FinishReason::kPruned;
    ++r_.state.stats.prunes;
  }
  const float* logits(const Candidate& c) const override { return c.row >= 0 ? s_.ctx_->logits(c.row) : nullptr; }
  const float* hidden(const Candidate& c) const override { return c.hidden.empty() ? nullptr : c.hidden.data(); }
  KvStats kv_stats() const override { return s_.slots_->stats(); }

 private:
  Scheduler& s_;
  Request& r_;
};

Scheduler::Scheduler(std::shared_ptr<Model> model, const ContextOptions& options) : model_(std::move(model)) {
  IRO_REQUIRE_ARG(options.max_sequences <= options.context_size, "maxSequences must not exceed contextSize");
  ctx_ = std::make_unique<Context>(model_, options);
  slots_ = std::make_unique<SequenceSlots>(ctx_->get(), ctx_->n_seq_max(), ctx_->n_ctx());
  batch_ = std::make_unique<Batch>(ctx_->n_batch() + ctx_->n_seq_max());
  kv_snapshot_ = slots_->stats();
  thread_ = std::thread([this] { run(); });
}

Scheduler::~Scheduler() { shutdown(); }

uint64_t Scheduler::submit(RequestSpec spec, std::unique_ptr<RequestPolicy> policy, Completion done, bool hold) {
  const int32_t n_vocab = model_->n_vocab();
  IRO_REQUIRE_ARG(!spec.prompt.empty(), "the prompt is empty; pass at least one token");
  for (int32_t t : spec.prompt) IRO_REQUIRE_ARG(t >= 0 && t < n_vocab, "prompt token " + std::to_string(t) + " is outside the vocabulary [0, " + std::to_string(n_vocab) + ")");
  IRO_REQUIRE_ARG(spec.max_tokens >= 1, "maxTokens must be >= 1");
  validate_sampling(spec.sampling);
  const int64_t prompt_len = static_cast<int64_t>(spec.prompt.size());
  if (prompt_len + spec.max_tokens > ctx_->n_ctx() || prompt_len > ctx_->n_batch()) {
    fail(codes::kContextOverflow, "prompt (" + std::to_string(prompt_len) + " tokens) + maxTokens (" + std::to_string(spec.max_tokens) +
                                      ") exceeds the context of " + std::to_string(ctx_->n_batch()) + " tokens; shorten the prompt, lower maxTokens or load with a larger contextSize");
  }
  const int32_t seqs = policy->max_live_sequences();
  if (seqs > ctx_->n_seq_max()) {
    fail(codes::kTooManySequences, "the request needs " + std::to_string(seqs) + " sequences but the engine holds " +
                                       std::to_string(ctx_->n_seq_max()) + "; lower n or load with a larger maxSequences");
  }
  const int64_t cells = policy->max_cells(static_cast<int32_t>(prompt_len), spec.max_tokens);
  if (cells > ctx_->n_ctx()) {
    fail(codes::kContextOverflow, "the request may need " + std::to_string(cells) + " KV cells (prompt + candidates x maxTokens) but the context holds " +
                                      std::to_string(ctx_->n_ctx()) + "; lower n or maxTokens, or load with a larger contextSize");
  }
  auto r = std::make_shared<Request>();
  r->state.spec = std::move(spec);
  r->state.n_vocab = n_vocab;
  r->policy = std::move(policy);
  r->done = std::move(done);
  r->aborted = std::make_shared<std::atomic<bool>>(false);
  r->need_seqs = seqs;
  r->need_cells = cells;
  r->submitted = Clock::now();
  std::lock_guard<std::mutex> lk(mu_);
  if (stopping_) fail(codes::kDisposed, "the engine has been disposed; load a new one");
  r->id = next_id_++;
  abort_flags_[r->id] = r->aborted;
  r->held = hold;
  queue_.push_back(r);
  if (!hold) {
    for (auto& q : queue_) q->held = false;
    cv_.notify_all();
  }
  return r->id;
}

void Scheduler::release() {
  std::lock_guard<std::mutex> lk(mu_);
  for (auto& q : queue_) q->held = false;
  cv_.notify_all();
}

void Scheduler::abort(uint64_t id) {
  std::lock_guard<std::mutex> lk(mu_);
  auto it = abort_flags_.find(id);
  if (it != abort_flags_.end()) it->second->store(true);
  cv_.notify_all();
}

void Scheduler::shutdown() {
  {
    std::lock_guard<std::mutex> lk(mu_);
    if (stopping_ && !thread_.joinable()) return;
    stopping_ = true;
    cv_.notify_all();
  }
  if (thread_.joinable()) thread_.join();
}

SchedulerStats Scheduler::stats() const {
  std::lock_guard<std::mutex> lk(mu_);
  SchedulerStats s;
  s.kv = kv_snapshot_;
  s.steps = steps_.load();
  s.queued = static_cast<int32_t>(queue_.size());
  s.active = active_count_.load();
  return s;
}

void Scheduler::release_sequences(Request& r) {
  for (auto& c : r.state.candidates) {
    if (c.seq >= 0) slots_->prune(c.seq);
    c.seq = -1;
  }
}

void Scheduler::finish(const std::shared_ptr<Request>& r, const char* code, const std::string& message) {
  if (r->completed) return;
  r->completed = true;
  release_sequences(*r);
  if (r->phase != Request::Phase::kQueued) {
    reserved_seqs_ -= r->need_seqs;
    reserved_cells_ -= r->need_cells;
    active_count_.fetch_sub(1);
  }
  RequestOutcome out;
  if (code) {
    out.error_code = code;
    out.error_message = message;
  } else {
    auto& st = r->state;
    st.stats.total_ms = ms_since(r->submitted);
    out.result.stats = st.stats;
    for (auto& c : st.candidates) {
      if (c.reason == FinishReason::kPruned) continue;  // pruned branches are not results
      CandidateResult cr;
      cr.index = c.index;
      cr.parent = c.parent;
      cr.tokens = std::move(c.tokens);
      cr.logprobs = std::move(c.logprobs);
      cr.reason = c.reason == FinishReason::kNone ? FinishReason::kLength : c.reason;
      cr.hidden = std::move(c.hidden);
      cr.score = c.score;
      if (st.spec.detokenize) cr.text = model_->detokenize(cr.tokens, false);
      out.result.candidates.push_back(std::move(cr));
    }
  }
  {
    // Publish before completing, so a caller that awaited this request sees its cells freed.
    std::lock_guard<std::mutex> lk(mu_);
    abort_flags_.erase(r->id);
    kv_snapshot_ = slots_->stats();
  }
  if (r->done) r->done(std::move(out));
}

void Scheduler::sample_live(Request& r) {
  RequestState& st = r.state;
  const auto t0 = Clock::now();
  const int32_t chunk = r.policy->chunk_tokens();
  if (chunk > 0) {
    bool boundary = false;
    for (const auto& c : st.candidates) boundary |= c.live() && c.row >= 0 && c.since_boundary >= chunk;
    if (boundary) {
      r.policy->on_chunk_boundary(st);
      for (auto& c : st.candidates) c.since_boundary = 0;
    }
  }
  const double policy_ms = ms_since(t0);
  const auto t1 = Clock::now();
  const int32_t n_vocab = st.n_vocab;
  const size_t n = st.candidates.size();  // candidates forked below are not sampled twice
  for (size_t i = 0; i < n; ++i) {
    Candidate& c = st.candidates[i];
    if (!c.live() || c.row < 0 || c.has_pending()) continue;
    const float* logits = ctx_->logits(c.row);
    const RngKey key{st.spec.seed, st.spec.request_index, static_cast<uint32_t>(c.index), static_cast<uint32_t>(c.tokens.size()), 0};
    const SampledToken tok = sample_token(logits, n_vocab, st.spec.sampling, key, scratch_);
    ++st.stats.tokens_sampled;
    bool finished = false;
    if (model_->is_eog(tok.token)) {
      c.reason = FinishReason::kStop;
      finished = true;
    } else {
      c.tokens.push_back(tok.token);
      c.logprobs.push_back(tok.logprob);
      ++c.since_boundary;
      if (r.policy->on_token(st, c)) {
        c.reason = FinishReason::kStop;
        finished = true;
      } else if (static_cast<int32_t>(c.tokens.size()) >= st.spec.max_tokens) {
        c.reason = FinishReason::kLength;
        finished = true;
      }
    }
    if (finished) {
      c.finished = true;
      if (c.seq >= 0) slots_->prune(c.seq);
      c.seq = -1;
      r.policy->on_finished(st, c);
    }
  }
  st.stats.sample_ms += ms_since(t1);
  const auto t2 = Clock::now();
  if (chunk > 0 && st.live_count() == 0) r.policy->on_chunk_boundary(st);
  for (auto& c : st.candidates) c.row = -1;
  st.stats.policy_ms += policy_ms + ms_since(t2);
}

void Scheduler::process_outputs(Request& r, bool prefilled) {
  RequestState& st = r.state;
  const bool want_hidden = st.spec.hidden_states && ctx_->embeddings();
  if (prefilled) {
    Candidate& root = st.candidates.front();
    const int32_t n = static_cast<int32_t>(st.spec.prompt.size());
    slots_->appended(root.seq, n);
    st.stats.prompt_tokens += n;
    st.stats.tokens_evaluated += n;
    if (want_hidden) {
      const float* h = ctx_->hidden(root.row);
      root.hidden.assign(h, h + model_->n_embd());
    }
    const auto t0 = Clock::now();
    r.policy->on_prefill_done(st);
    st.stats.policy_ms += ms_since(t0);
    st.stats.max_live_sequences = std::max(st.stats.max_live_sequences, st.live_count());
    r.phase = Request::Phase::kGenerate;
  } else {
    for (auto& c : st.candidates) {
      if (!c.live() || c.row < 0) continue;
      ++c.fed;
      slots_->appended(c.seq, 1);
      ++st.stats.tokens_evaluated;
      if (want_hidden) {
        const float* h = ctx_->hidden(c.row);
        c.hidden.assign(h, h + model_->n_embd());
      }
    }
  }
  sample_live(r);
}

void Scheduler::step(std::vector<std::shared_ptr<Request>>& admitted) {
  // Requests aborted while active stop here, before their next decode.
  for (auto& r : active_) {
    if (r->aborted->load()) finish(r, codes::kAborted, "the request was aborted");
  }
  batch_->clear();
  std::vector<std::shared_ptr<Request>> gen;
  bool gen_hidden = false;
  for (auto& r : active_) {
    if (r->completed || r->phase != Request::Phase::kGenerate) continue;
    const int32_t prompt_len = static_cast<int32_t>(r->state.spec.prompt.size());
    bool any = false;
    for (auto& c : r->state.candidates) {
      if (!c.live() || !c.has_pending()) continue;
      c.row = batch_->add(c.tokens[static_cast<size_t>(c.fed)], prompt_len + c.fed, c.seq, true);
      any = true;
    }
    if (any) {
      gen.push_back(r);
      gen_hidden |= r->state.spec.hidden_states;
    }
  }
  const int32_t gen_end = batch_->size();
  bool pre_hidden = false;
  for (auto& r : admitted) {
    Candidate root;
    root.index = 0;
    root.seq = slots_->acquire();
    const auto& prompt = r->state.spec.prompt;
    const int32_t n = static_cast<int32_t>(prompt.size());
    for (int32_t i = 0; i < n; ++i) {
      const int32_t row = batch_->add(prompt[static_cast<size_t>(i)], i, root.seq, i == n - 1);
      if (i == n - 1) root.row = row - gen_end;
    }
    r->state.candidates.push_back(std::move(root));
    r->phase = Request::Phase::kPrefill;
    r->admitted = Clock::now();
    r->state.stats.queue_ms = std::chrono::duration<double, std::milli>(r->admitted - r->submitted).count();
    r->ops = std::make_unique<Ops>(*this, *r);
    r->state.ops = r->ops.get();
    pre_hidden |= r->state.spec.hidden_states;
    active_.push_back(r);
    active_count_.fetch_add(1);
  }
  const int32_t total = batch_->size();

  // One decode for everything unless hidden-state output differs between the two groups
  // (with embeddings on, llama.cpp outputs every row, which is wasteful for long prompts).
  const bool merged = gen_end > 0 && total > gen_end && gen_hidden == pre_hidden && total <= ctx_->n_batch();
  auto run_group = [&](int32_t begin, int32_t end, bool hidden, bool with_gen, bool with_pre) {
    if (end <= begin) return;
    ctx_->set_embeddings(hidden);
    const auto t0 = Clock::now();
    std::string err_code, err_msg;
    try {
      ctx_->decode(batch_->view(begin, end - begin));
    } catch (const Error& e) {
      err_code = e.code();
      err_msg = e.what();
    }
    const double dt = ms_since(t0);
    steps_.fetch_add(1);
    auto handle = [&](const std::shared_ptr<Request>& r, bool prefilled) {
      if (r->completed) return;
      if (!err_code.empty()) {
        finish(r, err_code.c_str(), err_msg);
        return;
      }
      ++r->state.stats.decode_steps;
      if (prefilled) r->state.stats.prefill_ms += dt;
      else r->state.stats.decode_ms += dt;
      try {
        process_outputs(*r, prefilled);
        if (r->policy->done(r->state)) finish(r, nullptr, {});
      } catch (const Error& e) {
        finish(r, e.code().c_str(), e.what());
      } catch (const std::exception& e) {
        finish(r, codes::kInternal, std::string("internal error in a decoding policy: ") + e.what());
      }
    };
    if (with_gen) {
      // Rows of the generation group are relative to `begin` (= 0).
      for (auto& r : gen) handle(r, false);
    }
    if (with_pre) {
      if (begin == 0 && gen_end > 0) {
        for (auto& r : admitted) r->state.candidates.front().row += gen_end;  // merged: rows are batch indices
      }
      for (auto& r : admitted) handle(r, true);
    }
  };
  if (merged) {
    run_group(0, total, gen_hidden, true, true);
  } else {
    run_group(0, gen_end, gen_hidden, true, false);
    run_group(gen_end, total, pre_hidden, false, true);
  }
  // Requests that finished without any decode left (e.g. all candidates stopped at the first token).
  for (auto& r : active_) {
    if (!r->completed && r->phase == Request::Phase::kGenerate && r->policy->done(r->state)) finish(r, nullptr, {});
  }
  std::vector<std::shared_ptr<Request>> still;
  for (auto& r : active_) if (!r->completed) still.push_back(r);
  active_.swap(still);
  std::lock_guard<std::mutex> lk(mu_);
  kv_snapshot_ = slots_->stats();
}

void Scheduler::run() {
  for (;;) {
    std::vector<std::shared_ptr<Request>> admitted, dropped;
    {
      std::unique_lock<std::mutex> lk(mu_);
      cv_.wait(lk, [&] { return stopping_ || !queue_.empty() || !active_.empty(); });
      if (stopping_) break;
      int32_t room = ctx_->n_batch();
      while (!queue_.empty()) {
        auto r = queue_.front();
        if (r->aborted->load()) {
          dropped.push_back(r);
          queue_.pop_front();
          continue;
        }
        if (r->held) break;  // its group is still being submitted
        const int32_t n = static_cast<int32_t>(r->state.spec.prompt.size());
        if (reserved_seqs_ + r->need_seqs > ctx_->n_seq_max() || reserved_cells_ + r->need_cells > ctx_->n_ctx() || n > room) break;
        reserved_seqs_ += r->need_seqs;
        reserved_cells_ += r->need_cells;
        room -= n;
        admitted.push_back(r);
        queue_.pop_front();
      }
      if (admitted.empty() && active_.empty() && dropped.empty()) {
        // Nothing can run: wait for an abort, a new request or shutdown instead of spinning.
        cv_.wait(lk);
        continue;
      }
    }
    for (auto& r : dropped) finish(r, codes::kAborted, "the request was aborted");
    if (!admitted.empty() || !active_.empty()) step(admitted);
    if (active_.empty()) {
      // Idle: start the next group from an empty cache with its head at cell 0, so that where a
      // sequence's cells land (which changes float summation order in attention) depends only on
      // that group, not on what ran before. Resumed runs then repeat uninterrupted ones exactly.
      bool idle;
      {
        std::lock_guard<std::mutex> lk(mu_);
        idle = reserved_seqs_ == 0 && std::none_of(queue_.begin(), queue_.end(), [](const auto& q) { return !q->held; });
      }
      if (idle) slots_->clear();
    }
  }
  // Shutdown: every request still known completes with DISPOSED.
  std::deque<std::shared_ptr<Request>> queued;
  {
    std::lock_guard<std::mutex> lk(mu_);
    queued.swap(queue_);
  }
  for (auto& r : active_) finish(r, codes::kDisposed, "the engine was disposed while the request was running");
  for (auto& r : queued) finish(r, codes::kDisposed, "the engine was disposed before the request started");
  active_.clear();
  active_count_.store(0);
  slots_->clear();
}

}  // namespace iro::engine
