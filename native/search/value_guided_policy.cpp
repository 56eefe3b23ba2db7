#include "native/search/value_guided_policy.h"

#include <algorithm>
#include <cfloat>
#include <chrono>
#include <cmath>
#include <limits>
#include <unordered_map>

#include "native/common/error.h"
#include "native/kernels/beam_expand.h"
#include "native/kernels/resample.h"
#include "native/kernels/value_score.h"

namespace iro::search {
namespace {

using Clock = std::chrono::steady_clock;
double ms_since(Clock::time_point t) { return std::chrono::duration<double, std::milli>(Clock::now() - t).count(); }

constexpr uint64_t kHashSeed = 0xcbf29ce484222325ULL;
inline uint64_t hash_token(uint64_t h, int32_t token) {
  h ^= static_cast<uint32_t>(token);
  h *= 0x100000001b3ULL;
  h ^= h >> 29;
  return h;
}

// The selection kernels reject NaN/+inf; a broken value must not crash a search, so map it to the
// extreme finite value of the same ordering (NaN ranks last).
inline float selectable(float s) {
  if (std::isnan(s)) return -FLT_MAX;
  if (std::isinf(s)) return s > 0 ? FLT_MAX : -FLT_MAX;
  return s;
}

bool ended(const engine::Candidate& c) { return c.finished && c.reason == engine::FinishReason::kStop; }

}  // namespace

ValueGuidedPolicy::ValueGuidedPolicy(const SearchOptions& o, std::vector<ValueRef> values,
                                     std::shared_ptr<SearchReport> report, ChunkCallback on_chunk)
    : o_(o), values_(std::move(values)), report_(report ? std::move(report) : std::make_shared<SearchReport>()),
      on_chunk_(std::move(on_chunk)) {
  for (size_t m = 0; m < values_.size(); ++m) {
    const value::ValueModel& v = *values_[m];
    auto it = std::find_if(groups_.begin(), groups_.end(), [&](const Group& g) { return g.featurizer.config() == v.featurizer; });
    if (it == groups_.end()) {
      groups_.push_back(Group{value::Featurizer(v.featurizer), {}, {}, {}, false});
      it = groups_.end() - 1;
    }
    it->nets.push_back(static_cast<int32_t>(m));
    it->views.push_back(v.view());
    it->betas.push_back(o_.betas[m]);
    it->dense |= v.dims.d_dense > 0;
  }
  report_->n_values = static_cast<int32_t>(values_.size());
}

int64_t ValueGuidedPolicy::max_cells(int32_t prompt_tokens, int32_t max_tokens) const {
  SearchOptions o = o_;
  o.max_tokens = max_tokens;
  return search_max_cells(o, prompt_tokens);
}

ValueGuidedPolicy::Track& ValueGuidedPolicy::track(int32_t index) {
  if (static_cast<size_t>(index) >= tracks_.size()) tracks_.resize(static_cast<size_t>(index) + 1);
  return tracks_[static_cast<size_t>(index)];
}

void ValueGuidedPolicy::adopt_fork(const engine::Candidate& child) {
  Track copy = track(child.parent);  // copy first: growing tracks_ may move the parent
  copy.start = child.fed;
  track(child.index) = std::move(copy);
}

std::vector<int32_t> ValueGuidedPolicy::members() const {
  std::vector<int32_t> out;
  for (int32_t c : gen_) if (c >= 0) out.push_back(c);
  return out;
}

void ValueGuidedPolicy::on_prefill_done(engine::RequestState& rq) {
  const auto t0 = Clock::now();
  Track& root = track(0);
  const auto& prompt = rq.spec.prompt;
  for (const Group& g : groups_) root.feat.push_back(g.featurizer.begin(prompt.data(), prompt.size()));
  root.hash = kHashSeed;
  root.values.assign(values_.size(), 0.0f);
  gen_.assign(1, 0);
  for (int32_t i = 1; i < o_.w * o_.k; ++i) {
    const engine::Candidate& c = rq.ops->fork(0);
    adopt_fork(c);
    gen_.push_back(c.index);
  }
  report_->peak_kv_cells = std::max<int64_t>(report_->peak_kv_cells, static_cast<int64_t>(prompt.size()));
  report_->select_ms += ms_since(t0);
}

void ValueGuidedPolicy::refresh(engine::RequestState& rq) {
  std::vector<int32_t> pending;
  for (int32_t idx : members()) {
    engine::Candidate& c = rq.candidates[static_cast<size_t>(idx)];
    Track& t = track(idx);
    const int32_t n = static_cast<int32_t>(c.tokens.size());
    for (; t.hashed < n; ++t.hashed) t.hash = hash_token(t.hash, c.tokens[static_cast<size_t>(t.hashed)]);
    const bool end = ended(c);
    for (size_t g = 0; g < groups_.size(); ++g) {
      value::FeaturizerState& fs = t.feat[g];
      const int32_t have = fs.cursor.n_tokens;
      if (have < n) groups_[g].featurizer.extend(fs, c.tokens.data() + have, static_cast<size_t>(n - have));
      if (end && !fs.ended) groups_[g].featurizer.finish(fs);
    }
    if (!t.scored || t.scored_len != n || t.scored_ended != end) pending.push_back(idx);
  }
  if (pending.empty()) return;
  const int32_t n_states = static_cast<int32_t>(pending.size());
  std::vector<uint32_t> ids;
  std::vector<float> weights, dense, vals;
  std::vector<int32_t> offsets;
  for (size_t g = 0; g < groups_.size(); ++g) {
    const Group& grp = groups_[g];
    ids.clear();
    weights.clear();
    offsets.assign(1, 0);
    dense.clear();
    int32_t width = 0;
    for (int32_t m : grp.nets) width = std::max(width, values_[static_cast<size_t>(m)]->dims.d_dense);
    for (int32_t idx : pending) {
      const engine::Candidate& c = rq.candidates[static_cast<size_t>(idx)];
      grp.featurizer.emit(track(idx).feat[g], ids, weights);
      IRO_REQUIRE_ARG(ids.size() <= static_cast<size_t>(std::numeric_limits<int32_t>::max()), "too many value features in one chunk");
      offsets.push_back(static_cast<int32_t>(ids.size()));
      if (width > 0) {
        // As in training, a prefix without response tokens gets no dense input.
        const float* h = c.tokens.empty() ? nullptr : rq.ops->hidden(c);
        if (!c.tokens.empty() && h == nullptr) fail(codes::kInternal, "a value function needs hidden states but the engine produced none");
        if (h) dense.insert(dense.end(), h, h + width);
        else dense.insert(dense.end(), static_cast<size_t>(width), 0.0f);
      }
    }
    SparseFeatures x;
    x.n_states = n_states;
    x.offsets = offsets.data();
    x.ids = ids.data();
    x.weights = weights.data();
    x.dense = width > 0 ? dense.data() : nullptr;
    x.d_dense = width;
    const int32_t n_nets = static_cast<int32_t>(grp.nets.size());
    vals.assign(static_cast<size_t>(n_states) * n_nets, 0.0f);
    score_values(x, grp.views.data(), n_nets, grp.betas.data(), vals.data(), nullptr, o_.threads);
    for (int32_t s = 0; s < n_states; ++s) {
      Track& t = track(pending[static_cast<size_t>(s)]);
      t.values.resize(values_.size());
      for (int32_t j = 0; j < n_nets; ++j) t.values[static_cast<size_t>(grp.nets[static_cast<size_t>(j)])] = vals[static_cast<size_t>(s) * n_nets + j];
    }
  }
  for (int32_t idx : pending) {
    engine::Candidate& c = rq.candidates[static_cast<size_t>(idx)];
    Track& t = track(idx);
    t.values.resize(values_.size());
    // Same order and precision as the kernel's combined score: sum_m V_m / beta_m in option order.
    float combined = 0.0f;
    for (size_t m = 0; m < values_.size(); ++m) combined += t.values[m] / o_.betas[m];
    t.score = combined;
    t.scored = true;
    t.scored_len = static_cast<int32_t>(c.tokens.size());
    t.scored_ended = ended(c);
    c.score = combined;
  }
  report_->value_evaluations += n_states;
}

void ValueGuidedPolicy::select_and_expand(engine::RequestState& rq) {
  const std::vector<int32_t> mem = members();
  const int32_t M = static_cast<int32_t>(mem.size());
  std::vector<float> scores(static_cast<size_t>(M));
  for (int32_t i = 0; i < M; ++i) scores[static_cast<size_t>(i)] = selectable(track(mem[static_cast<size_t>(i)]).score);
  const int32_t offs[2] = {0, M};
  std::vector<int32_t> chosen;  // candidate indices, selection order, repeats allowed (softmax)
  switch (o_.strategy) {
    case Strategy::kTopW: {
      const int32_t w = std::min(o_.w, M);
      std::vector<int32_t> out(static_cast<size_t>(w));
      top_w(scores.data(), offs, 1, w, out.data(), 1);
      for (int32_t i : out) chosen.push_back(mem[static_cast<size_t>(i)]);
      break;
    }
    case Strategy::kDiverse: {
      const int32_t w = std::min(o_.w, M);
      std::vector<uint64_t> hashes(static_cast<size_t>(M));
      for (int32_t i = 0; i < M; ++i) hashes[static_cast<size_t>(i)] = track(mem[static_cast<size_t>(i)]).hash;
      std::vector<int32_t> out(static_cast<size_t>(w));
      diverse_top_w(scores.data(), hashes.data(), offs, 1, w, out.data(), 1);
      for (int32_t i : out) chosen.push_back(mem[static_cast<size_t>(i)]);
      break;
    }
    case Strategy::kSoftmax: {
      std::vector<int32_t> out(static_cast<size_t>(o_.w));
      const int32_t draw_offs[2] = {0, o_.w};
      const uint32_t rid = o_.request_index;
      resample(scores.data(), offs, 1, o_.selection_temperature, ResampleMethod::kSystematic, draw_offs, o_.seed,
               static_cast<uint32_t>(report_->chunks), &rid, out.data(), 1);
      for (int32_t i : out) chosen.push_back(mem[static_cast<size_t>(i)]);
      break;
    }
    case Strategy::kGroup: {
      // Groups are the k slots of each parent (empty slots score -inf and are never chosen unless
      // a whole group is empty, which is skipped).
      const int32_t S = static_cast<int32_t>(gen_.size());
      std::vector<float> gs(static_cast<size_t>(S), -std::numeric_limits<float>::infinity());
      for (int32_t s = 0; s < S; ++s) {
        if (gen_[static_cast<size_t>(s)] >= 0) gs[static_cast<size_t>(s)] = selectable(track(gen_[static_cast<size_t>(s)]).score);
      }
      const int32_t goffs[2] = {0, S};
      std::vector<int32_t> out(static_cast<size_t>(S / o_.k));
      group_best(gs.data(), goffs, 1, o_.k, out.data(), 1);
      for (int32_t s : out) {
        if (gen_[static_cast<size_t>(s)] >= 0) chosen.push_back(gen_[static_cast<size_t>(s)]);
      }
      break;
    }
  }

  if (report_->record_selections) {
    SelectionRecord rec;
    for (int32_t idx : mem) rec.generation.push_back(rq.candidates[static_cast<size_t>(idx)].tokens);
    for (int32_t idx : chosen) rec.kept.push_back(rq.candidates[static_cast<size_t>(idx)].tokens);
    rec.generation_scores = scores;
    report_->selections.push_back(std::move(rec));
  }

  // Drop what was not chosen: prune live sequences first so the forks below stay within w*k.
  std::vector<char> keep(rq.candidates.size(), 0);
  for (int32_t c : chosen) keep[static_cast<size_t>(c)] = 1;
  for (int32_t idx : mem) {
    if (keep[static_cast<size_t>(idx)]) continue;
    engine::Candidate& c = rq.candidates[static_cast<size_t>(idx)];
    if (c.live()) rq.ops->prune(idx);
    else c.reason = engine::FinishReason::kPruned;  // a finished beam that lost its place
  }

  // Live parent entries (with repeats) get k children each through the beam-expansion plan.
  std::vector<int32_t> label_of(rq.candidates.size(), -1);
  std::vector<int32_t> label_cand, parents, entry_of_chosen(chosen.size(), -1);
  for (size_t e = 0; e < chosen.size(); ++e) {
    const int32_t c = chosen[e];
    if (!rq.candidates[static_cast<size_t>(c)].live()) continue;
    if (label_of[static_cast<size_t>(c)] < 0) {
      label_of[static_cast<size_t>(c)] = static_cast<int32_t>(label_cand.size());
      label_cand.push_back(c);
    }
    entry_of_chosen[e] = static_cast<int32_t>(parents.size());
    parents.push_back(label_of[static_cast<size_t>(c)]);
  }
  std::vector<int32_t> slot_cand;
  BeamLayout layout;
  if (!parents.empty()) {
    const int32_t poffs[2] = {0, static_cast<int32_t>(parents.size())};
    BeamBatch batch;
    batch.n_requests = 1;
    batch.parent_offsets = poffs;
    batch.parents = parents.data();
    batch.k = &o_.k;
    layout = plan_beams(batch);
    slot_cand.assign(static_cast<size_t>(layout.total_slots()), -1);
    for (int32_t s = 0; s < layout.total_slots(); ++s) {
      if (layout.child_parent[static_cast<size_t>(s)] == s) slot_cand[static_cast<size_t>(s)] = label_cand[static_cast<size_t>(s)];
    }
    for (const ForkOp& op : layout.forks) {
      const engine::Candidate& child = rq.ops->fork(label_cand[static_cast<size_t>(op.src_slot)]);
      adopt_fork(child);
      slot_cand[static_cast<size_t>(op.dst_slot)] = child.index;
    }
  }

  // Next generation, in selection order: each live entry's k children, each kept finished beam alone.
  std::vector<int32_t> next;
  std::vector<char> placed(rq.candidates.size(), 0);
  for (size_t e = 0; e < chosen.size(); ++e) {
    const int32_t c = chosen[e];
    if (entry_of_chosen[e] >= 0) {
      const size_t base = next.size();
      next.resize(base + static_cast<size_t>(o_.k), -1);
      for (int32_t s = 0; s < layout.total_slots(); ++s) {
        if (layout.child_parent_index[static_cast<size_t>(s)] == entry_of_chosen[e]) {
          next[base + static_cast<size_t>(layout.child_number[static_cast<size_t>(s)])] = slot_cand[static_cast<size_t>(s)];
        }
      }
    } else if (!placed[static_cast<size_t>(c)]) {
      placed[static_cast<size_t>(c)] = 1;
      next.push_back(c);
      next.resize(next.size() + static_cast<size_t>(o_.k - 1), -1);
    }
  }
  gen_.swap(next);
}

int64_t ValueGuidedPolicy::request_cells(const engine::RequestState& rq) const {
  // Cells of the fork tree that some live sequence still reaches: each candidate owns the cells
  // it decoded after its fork ([start, fed)); a live candidate reaches its own and its ancestors'
  // cells up to each fork point.
  std::unordered_map<int32_t, int32_t> need;
  for (const auto& c : rq.candidates) {
    if (!c.live()) continue;
    int32_t node = c.index, end = c.fed;
    while (node >= 0) {
      auto it = need.find(node);
      if (it != need.end() && it->second >= end) break;
      need[node] = end;
      end = tracks_[static_cast<size_t>(node)].start;
      node = rq.candidates[static_cast<size_t>(node)].parent;
    }
  }
  int64_t cells = static_cast<int64_t>(rq.spec.prompt.size());
  for (const auto& kv : need) cells += std::max(0, kv.second - tracks_[static_cast<size_t>(kv.first)].start);
  return cells;
}

void ValueGuidedPolicy::finalize(engine::RequestState& rq) {
  std::vector<int32_t> mem = members();
  report_->order = mem;
  std::vector<int32_t> ranking = mem;
  std::stable_sort(ranking.begin(), ranking.end(), [&](int32_t a, int32_t b) {
    const float sa = selectable(track(a).score), sb = selectable(track(b).score);
    return sa != sb ? sa > sb : a < b;
  });
  report_->ranking = ranking;
  for (int32_t idx : mem) report_->values[idx] = track(idx).values;
  report_->finalized = true;
  if (on_chunk_ && !ranking.empty()) {
    ChunkEvent ev;
    ev.chunk = report_->chunks;
    ev.best_index = ranking.front();
    ev.tokens = &rq.candidates[static_cast<size_t>(ranking.front())].tokens;
    ev.score = track(ranking.front()).score;
    ev.live = 0;
    ev.final = true;
    on_chunk_(ev);
  }
}

void ValueGuidedPolicy::on_chunk_boundary(engine::RequestState& rq) {
  if (report_->finalized) return;
  report_->peak_kv_cells = std::max(report_->peak_kv_cells, request_cells(rq));
  const auto t0 = Clock::now();
  refresh(rq);
  report_->featurize_score_ms += ms_since(t0);
  bool any_live = false;
  for (int32_t idx : members()) any_live |= rq.candidates[static_cast<size_t>(idx)].live();
  if (!any_live) {
    finalize(rq);
    return;
  }
  const auto t1 = Clock::now();
  select_and_expand(rq);
  ++report_->chunks;
  report_->select_ms += ms_since(t1);
  if (on_chunk_) {
    int32_t best = -1;
    for (int32_t idx : members()) {
      if (best < 0 || selectable(track(idx).score) > selectable(track(best).score)) best = idx;
    }
    ChunkEvent ev;
    ev.chunk = report_->chunks;
    ev.best_index = best;
    ev.tokens = best >= 0 ? &rq.candidates[static_cast<size_t>(best)].tokens : nullptr;
    ev.score = best >= 0 ? track(best).score : 0.0;
    ev.live = rq.live_count();
    on_chunk_(ev);
  }
}

std::unique_ptr<engine::RequestPolicy> make_value_guided_policy(const SearchOptions& o, std::vector<ValueRef> values,
                                                                const SearchLimits& limits,
                                                                std::shared_ptr<SearchReport> report, ChunkCallback on_chunk) {
  validate_search(o, values, limits, -1);
  return std::make_unique<ValueGuidedPolicy>(o, std::move(values), std::move(report), std::move(on_chunk));
}

}  // namespace iro::search
