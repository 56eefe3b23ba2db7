// Chunk-level value-guided beam search as an engine RequestPolicy (DESIGN.md §6, issue 7).
//
// prefill once -> fork the prompt into w*k sequences -> every sequence samples l tokens in the
// scheduler's shared steps -> at each chunk boundary: extend each candidate's featurizer state by
// its new tokens (one state per distinct featurizer config; forks copy it), score every candidate
// of the generation with the value-scoring kernel (sum_m V_m / beta_m), select w parents (topw,
// diverse, group or softmax via the resampling kernel), lay the children out with the
// beam-expansion kernel's plan and apply it through SequenceOps -> until every kept beam ended.
//
// Mapping the beam plan onto SequenceOps (fork makes a NEW candidate from a parent, prune frees
// one): the generation's unselected candidates are pruned first; the distinct live parents get
// plan slots 0..d-1 (labels in order of first selection), so in plan_beams' layout each parent's
// first child keeps the parent's own slot (the parent candidate simply continues: no fork), and
// every fork op (dst, src) becomes ops.fork(parent of src) whose new candidate takes slot dst.
// The next token of every child is sampled by the scheduler with the engine's keys
// (seed, request, candidate index, position), and candidate indices follow the plan's order, so a
// search depends on its seed only, never on what else is batched.
//
// Finished candidates keep their score, are never expanded, and stay eligible: a selected one is
// kept (once) as its own group; an unselected one is dropped from the results (reason kPruned).
#pragma once
#include <memory>
#include <vector>

#include "native/engine/policy.h"
#include "native/search/search_options.h"
#include "native/value/featurizer.h"

namespace iro::search {

class ValueGuidedPolicy final : public engine::RequestPolicy {
 public:
  // Options are assumed validated (make_value_guided_policy does it).
  ValueGuidedPolicy(const SearchOptions& o, std::vector<ValueRef> values, std::shared_ptr<SearchReport> report,
                    ChunkCallback on_chunk);

  int32_t max_live_sequences() const override { return o_.w * o_.k; }
  int64_t max_cells(int32_t prompt_tokens, int32_t max_tokens) const override;
  void on_prefill_done(engine::RequestState& rq) override;
  int32_t chunk_tokens() const override { return o_.l; }
  void on_chunk_boundary(engine::RequestState& rq) override;

  const SearchReport& report() const { return *report_; }

 private:
  // Value functions sharing one featurizer config are scored together.
  struct Group {
    value::Featurizer featurizer;
    std::vector<int32_t> nets;  // indices into values_
    std::vector<ValueNetView> views;
    std::vector<float> betas;
    bool dense = false;
  };
  // Per candidate (indexed by candidate index).
  struct Track {
    std::vector<value::FeaturizerState> feat;  // one per group
    uint64_t hash = 0;                         // continuation hash of the response tokens
    int32_t hashed = 0;
    int32_t start = 0;                         // response cells shared with the parent at the fork
    bool scored = false;
    int32_t scored_len = 0;
    bool scored_ended = false;
    std::vector<float> values;
    float score = 0.0f;
  };

  Track& track(int32_t index);
  void adopt_fork(const engine::Candidate& child);
  void refresh(engine::RequestState& rq);
  void select_and_expand(engine::RequestState& rq);
  void finalize(engine::RequestState& rq);
  int64_t request_cells(const engine::RequestState& rq) const;
  std::vector<int32_t> members() const;

  SearchOptions o_;
  std::vector<ValueRef> values_;
  std::vector<Group> groups_;
  std::shared_ptr<SearchReport> report_;
  ChunkCallback on_chunk_;
  std::vector<Track> tracks_;
  std::vector<int32_t> gen_;  // current generation in groups of k slots; -1 = empty slot
};

}  // namespace iro::search
