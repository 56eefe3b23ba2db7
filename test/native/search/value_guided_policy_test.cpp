// Behaviour of the value-guided search policy on a tiny random-init model.
#include <atomic>
#include <cmath>
#include <chrono>
#include <set>
#include <thread>

#include "native/common/error.h"
#include "native/forge/spm_vocab.h"
#include "native/value/featurizer.h"
#include "test/native/search/search_test_util.h"

namespace iro::search_test {
namespace {

using search::SearchOptions;
using search::Strategy;
using search::ValueRef;
using Tokens = std::vector<int32_t>;

// A value net V = relu(gain * (#token in response) / sqrt(n)) + bias: it prefers `token`.
// gain 0 gives the same value to every state.
std::shared_ptr<value::ValueModel> token_value(int32_t token, float gain, float bias = 0.0f) {
  auto m = std::make_shared<value::ValueModel>();
  m->dims.n_buckets = 1 << 16;
  m->dims.d = 1;
  m->dims.hidden = 1;
  m->dims.d_dense = 0;
  m->featurizer.seed = 11;
  m->featurizer.ngram_max = 1;
  m->featurizer.prompt_window = 0;
  m->featurizer.position_buckets = 4;
  m->allocate();
  m->W1[0] = 1.0f;
  m->w2[0] = 1.0f;
  m->b2 = bias;
  m->meta.vocab_size = fixture().model->n_vocab();
  m->meta.vocab_fingerprint = fixture().model->fingerprint().hex;
  const value::Featurizer f(m->featurizer);
  auto bucket = [&](int32_t t) {
    value::FeaturizerCursor cur;
    std::vector<uint32_t> ids;
    f.step({}, cur, t, ids);
    return static_cast<int32_t>(ids.at(0) % static_cast<uint32_t>(m->dims.n_buckets));
  };
  const int32_t b = bucket(token);
  // The preference must be about this token only: no other token, position or end id shares its bucket.
  for (int32_t t = 0; t < fixture().model->n_vocab(); ++t) {
    if (t != token && bucket(t) == b) throw Error(codes::kInternal, "bucket collision in the test value net; change its seed");
  }
  for (int32_t n = 0; n < 64; ++n) {
    if (static_cast<int32_t>(f.position_id(n) % static_cast<uint32_t>(m->dims.n_buckets)) == b) throw Error(codes::kInternal, "position collision");
  }
  m->E[static_cast<size_t>(b)] = gain;
  return m;
}

SearchOptions base_options() {
  SearchOptions o;
  o.w = 4;
  o.k = 4;
  o.l = 4;
  o.max_tokens = 16;
  o.sampling.temperature = 1.0f;
  o.sampling.top_k = 0;
  o.sampling.top_p = 1.0f;
  o.sampling.min_p = 0.0f;
  o.seed = 1;
  return o;
}

int32_t count_of(const Tokens& t, int32_t token) {
  int32_t n = 0;
  for (int32_t x : t) n += x == token;
  return n;
}

Tokens prefix(const Tokens& t, size_t n) { return Tokens(t.begin(), t.begin() + static_cast<long>(std::min(n, t.size()))); }

int32_t liked_token() {
  // Pieces follow the control and byte tokens in the forged vocabulary, in the fixture's order.
  const auto& pieces = test_pieces();
  for (size_t i = 0; i < pieces.size(); ++i) {
    if (pieces[i] == " good") return forge::kFirstPieceId + static_cast<int32_t>(i);
  }
  throw Error(codes::kInternal, "' good' is not a piece of the test vocabulary");
}

}  // namespace

SEARCH_TEST(plain_sampling_and_best_of_n_are_the_same_policy) {
  const Tokens prompt = prompt_tokens("the film is");
  SearchOptions o = base_options();
  o.w = o.k = 1;
  o.max_tokens = 12;
  Run search = submit_search(o, {}, prompt).get();
  Run plain = submit_plain(1, o, prompt).get();
  SCHECK(search.ok() && plain.ok(), "%s / %s", search.outcome.error_message.c_str(), plain.outcome.error_message.c_str());
  SCHECK(search.outcome.result.candidates.size() == 1, "w = k = 1 keeps one candidate, got %zu", search.outcome.result.candidates.size());
  SCHECK(search.outcome.result.candidates[0].tokens == plain.outcome.result.candidates[0].tokens, "w = k = 1 differs from plain sampling");
  SCHECK(search.outcome.result.stats.forks == 0, "plain sampling forked %lld times", static_cast<long long>(search.outcome.result.stats.forks));

  // Best-of-N: one chunk of maxTokens, N = w * k candidates, exactly the sampling policy's candidates.
  o = base_options();
  o.l = o.max_tokens = 10;
  auto v = token_value(liked_token(), 1.0f);
  Run bon = submit_search(o, {v}, prompt).get();
  Run n16 = submit_plain(16, o, prompt).get();
  SCHECK(bon.ok() && n16.ok(), "%s", bon.outcome.error_message.c_str());
  SCHECK(bon.outcome.result.candidates.size() == 16, "Best-of-16 returned %zu candidates", bon.outcome.result.candidates.size());
  for (const auto& c : n16.outcome.result.candidates) {
    const auto* b = bon.candidate(c.index);
    SCHECK(b && b->tokens == c.tokens, "Best-of-N candidate %d differs from plain sampling", c.index);
  }
  SCHECK(bon.report->chunks == 0, "Best-of-N ran %d selections", bon.report->chunks);
  SCHECK(bon.report->value_evaluations == 16, "Best-of-N scored %lld states", static_cast<long long>(bon.report->value_evaluations));
  SCHECK(bon.report->ranking.size() == 16, "ranking holds %zu", bon.report->ranking.size());
  for (size_t i = 1; i < bon.report->ranking.size(); ++i) {
    SCHECK(bon.candidate(bon.report->ranking[i - 1])->score >= bon.candidate(bon.report->ranking[i])->score, "ranking is not by value");
  }
}

SEARCH_TEST(guided_search_produces_the_preferred_token_far_more_often) {
  const int32_t liked = liked_token();
  auto v = token_value(liked, 1.0f);
  const Tokens prompt = prompt_tokens("the film");
  int32_t guided = 0, plain = 0, guided_hits = 0, plain_hits = 0;
  const int n_seeds = 10;
  for (int s = 0; s < n_seeds; ++s) {
    SearchOptions o = base_options();
    o.max_tokens = 32;
    o.seed = 100 + static_cast<uint64_t>(s);
    Run g = submit_search(o, {v}, prompt).get();
    SearchOptions p = o;
    p.w = p.k = 1;
    Run b = submit_search(p, {v}, prompt).get();
    SCHECK(g.ok() && b.ok(), "%s %s", g.outcome.error_message.c_str(), b.outcome.error_message.c_str());
    if (!g.ok() || !b.ok()) return;
    const int32_t cg = count_of(g.best()->tokens, liked), cb = count_of(b.best()->tokens, liked);
    guided += cg;
    plain += cb;
    guided_hits += cg > 0;
    plain_hits += cb > 0;
    SCHECK(g.report->chunks >= 1 && g.outcome.result.stats.forks > 0, "the search never selected");
    SCHECK(g.report->value_evaluations > 16, "value evaluations %lld", static_cast<long long>(g.report->value_evaluations));
  }
  std::fprintf(stderr, "    preferred token: guided %d (in %d/%d best beams), plain %d (in %d/%d)\n", guided, guided_hits, n_seeds, plain,
               plain_hits, n_seeds);
  SCHECK(guided >= 3 * plain + 5, "guided %d vs plain %d", guided, plain);
  SCHECK(guided_hits >= plain_hits + 3, "guided hits %d vs plain hits %d", guided_hits, plain_hits);
}

SEARCH_TEST(topw_with_equal_values_keeps_plain_sampling_then_first_w) {
  auto flat = token_value(liked_token(), 0.0f, 0.5f);
  const Tokens prompt = prompt_tokens("the");
  for (uint64_t seed : {3u, 4u, 5u}) {
    SearchOptions o = base_options();
    o.strategy = Strategy::kTopW;
    o.max_tokens = 12;
    o.seed = seed;
    auto report = std::make_shared<search::SearchReport>();
    report->record_selections = true;
    Run s = submit_search(o, {flat}, prompt, report).get();
    SearchOptions p = o;
    p.max_tokens = o.l;
    Run plain = submit_plain(o.w * o.k, p, prompt).get();
    SCHECK(s.ok() && plain.ok(), "%s", s.outcome.error_message.c_str());
    if (!s.ok() || report->selections.empty()) {
      SCHECK(false, "no selection recorded");
      return;
    }
    const auto& sel = report->selections.front();
    SCHECK(sel.kept.size() == static_cast<size_t>(o.w), "kept %zu", sel.kept.size());
    std::vector<Tokens> expected;
    for (int32_t i = 0; i < o.w; ++i) expected.push_back(plain.candidate(i)->tokens);
    SCHECK(sel.kept == expected, "topw with equal values did not keep plain candidates 0..w-1 (seed %llu)", static_cast<unsigned long long>(seed));
    // Every final candidate descends from one of them.
    for (const auto& c : s.outcome.result.candidates) {
      bool from_kept = false;
      for (const auto& e : expected) from_kept |= prefix(c.tokens, e.size()) == e;
      SCHECK(from_kept, "final candidate %d does not extend a kept beam", c.index);
    }
  }
}

SEARCH_TEST(diverse_never_keeps_duplicates_while_distinct_ones_exist) {
  auto flat = token_value(liked_token(), 0.0f, 0.25f);
  const Tokens prompt = prompt_tokens("the good");
  bool saw_duplicates = false;
  for (uint64_t seed : {1u, 2u, 3u, 4u}) {
    SearchOptions o = base_options();
    o.sampling.top_k = 2;  // few distinct continuations: duplicates are certain
    o.l = 2;
    o.max_tokens = 8;
    o.seed = seed;
    o.strategy = Strategy::kDiverse;
    auto report = std::make_shared<search::SearchReport>();
    report->record_selections = true;
    Run s = submit_search(o, {flat}, prompt, report).get();
    SCHECK(s.ok(), "%s", s.outcome.error_message.c_str());
    SCHECK(!report->selections.empty(), "no selections");
    for (const auto& sel : report->selections) {
      const std::set<Tokens> all(sel.generation.begin(), sel.generation.end());
      const std::set<Tokens> kept(sel.kept.begin(), sel.kept.end());
      saw_duplicates |= all.size() < sel.generation.size();
      SCHECK(kept.size() == std::min<size_t>(static_cast<size_t>(o.w), all.size()), "kept %zu distinct of %zu distinct (%zu kept)", kept.size(),
             all.size(), sel.kept.size());
    }
    // The same runs with topw keep duplicates (the contrast the strategy exists for).
  }
  SCHECK(saw_duplicates, "the test never produced duplicate continuations");
}

SEARCH_TEST(same_seed_same_result_alone_twice) {
  auto v = token_value(liked_token(), 1.0f);
  const Tokens prompt = prompt_tokens("the film is");
  for (Strategy st : {Strategy::kDiverse, Strategy::kSoftmax, Strategy::kGroup, Strategy::kTopW}) {
    SearchOptions o = base_options();
    o.strategy = st;
    o.max_tokens = 20;
    o.seed = 42;
    o.request_index = 2;
    Run a = submit_search(o, {v}, prompt).get();
    Run b = submit_search(o, {v}, prompt).get();
    o.request_index = 3;
    Run c = submit_search(o, {v}, prompt).get();
    SCHECK(a.ok() && b.ok() && c.ok(), "%s", a.outcome.error_message.c_str());
    const auto& x = a.outcome.result.candidates;
    const auto& y = b.outcome.result.candidates;
    SCHECK(x.size() == y.size(), "%zu vs %zu", x.size(), y.size());
    for (size_t i = 0; i < std::min(x.size(), y.size()); ++i) {
      SCHECK(x[i].index == y[i].index && x[i].tokens == y[i].tokens && x[i].score == y[i].score, "%s: candidate %zu differs",
             search::strategy_name(st), i);
    }
    SCHECK(a.report->ranking == b.report->ranking, "ranking differs");
    bool differs = x.size() != c.outcome.result.candidates.size();
    for (size_t i = 0; !differs && i < x.size(); ++i) differs = x[i].tokens != c.outcome.result.candidates[i].tokens;
    SCHECK(differs, "%s: another request index gave the same search", search::strategy_name(st));
  }
}

// Same seed, same search, whether it runs alone or shares every step with other requests: the
// engine's logits do not depend on the batch (flash attention off), candidate indices follow the
// plan, and the resampling draws are keyed by (seed, request index, chunk).
SEARCH_TEST(same_seed_same_decisions_alone_or_batched) {
  auto v = token_value(liked_token(), 1.0f);
  const Tokens prompt = prompt_tokens("the film is");
  int compared = 0, full = 0, runs = 0;
  for (Strategy st : {Strategy::kDiverse, Strategy::kSoftmax, Strategy::kGroup, Strategy::kTopW}) {
   for (uint64_t seed : {42u, 5u}) {
    ++runs;
    SearchOptions o = base_options();
    o.strategy = st;
    o.max_tokens = 20;
    o.seed = seed;
    o.request_index = 2;
    auto ra = std::make_shared<search::SearchReport>();
    ra->record_selections = true;
    Run alone = submit_search(o, {v}, prompt, ra).get();
    // Others first, so the search joins steps that already decode other sequences.
    SearchOptions other = base_options();
    other.max_tokens = 40;
    other.seed = 7;
    auto f1 = submit_plain(8, other, prompt_tokens("bad film"));
    SearchOptions other2 = o;
    other2.seed = 43;
    other2.l = 3;
    auto f2 = submit_search(other2, {v}, prompt);
    auto rb = std::make_shared<search::SearchReport>();
    rb->record_selections = true;
    auto f3 = submit_search(o, {v}, prompt, rb);
    Run together = f3.get();
    Run r1 = f1.get();
    Run r2 = f2.get();
    SCHECK(alone.ok() && together.ok() && r1.ok() && r2.ok(), "%s", together.outcome.error_message.c_str());
    size_t same = 0;
    while (same < ra->selections.size() && same < rb->selections.size() &&
           ra->selections[same].generation == rb->selections[same].generation) {
      SCHECK(ra->selections[same].kept == rb->selections[same].kept, "%s: selection %zu kept different parents from the same candidates",
             search::strategy_name(st), same);
      ++same;
    }
    compared += static_cast<int>(same);
    if (same == ra->selections.size() && same == rb->selections.size()) {
      const auto& a = alone.outcome.result.candidates;
      const auto& b = together.outcome.result.candidates;
      bool identical_tokens = a.size() == b.size();
      for (size_t i = 0; identical_tokens && i < a.size(); ++i) identical_tokens = a[i].index == b[i].index && a[i].tokens == b[i].tokens;
      if (identical_tokens) {
        ++full;
        for (size_t i = 0; i < a.size(); ++i) SCHECK(a[i].score == b[i].score, "%s: score of candidate %zu differs", search::strategy_name(st), i);
        SCHECK(alone.report->ranking == together.report->ranking, "%s: ranking differs", search::strategy_name(st));
      }
    }
   }
  }
  std::fprintf(stderr, "    %d selections compared, %d of %d searches identical alone and batched\n", compared, full, runs);
  SCHECK(full == runs, "only %d of %d searches gave the same result alone and batched", full, runs);
}

SEARCH_TEST(group_and_softmax_keep_w_parents) {
  auto v = token_value(liked_token(), 1.0f);
  const Tokens prompt = prompt_tokens("the");
  for (Strategy st : {Strategy::kGroup, Strategy::kSoftmax}) {
    SearchOptions o = base_options();
    o.strategy = st;
    o.selection_temperature = 0.5f;
    auto report = std::make_shared<search::SearchReport>();
    report->record_selections = true;
    Run s = submit_search(o, {v}, prompt, report).get();
    SCHECK(s.ok(), "%s", s.outcome.error_message.c_str());
    SCHECK(report->chunks == 3, "%s: %d selections for 16 tokens in chunks of 4", search::strategy_name(st), report->chunks);
    for (const auto& sel : report->selections) {
      SCHECK(sel.kept.size() <= static_cast<size_t>(o.w) && !sel.kept.empty(), "%s kept %zu", search::strategy_name(st), sel.kept.size());
      if (st == Strategy::kGroup && sel.generation.size() == static_cast<size_t>(o.w * o.k)) {
        // Group-best: the kept parent of group g is the best of the generation's g-th block of k.
        for (size_t g = 0; g < sel.kept.size(); ++g) {
          bool in_block = false;
          for (int32_t j = 0; j < o.k; ++j) in_block |= sel.generation[g * static_cast<size_t>(o.k) + static_cast<size_t>(j)] == sel.kept[g];
          SCHECK(in_block, "group %zu kept a beam from another group", g);
        }
      }
    }
    SCHECK(s.outcome.result.candidates.size() <= static_cast<size_t>(o.w * o.k), "%zu final candidates", s.outcome.result.candidates.size());
    SCHECK(s.report->peak_kv_cells > static_cast<int64_t>(prompt.size()) &&
               s.report->peak_kv_cells <= search::search_max_cells(o, static_cast<int32_t>(prompt.size())),
           "peak KV cells %lld", static_cast<long long>(s.report->peak_kv_cells));
  }
}

SEARCH_TEST(abort_mid_search_frees_every_sequence) {
  auto v = token_value(liked_token(), 1.0f);
  SearchOptions o = base_options();
  o.max_tokens = 56;
  std::atomic<uint64_t> id{0};
  std::atomic<int> chunks{0};
  std::atomic<bool> had_tokens{false};
  search::ChunkCallback cb = [&](const search::ChunkEvent& ev) {
    had_tokens = had_tokens || (ev.tokens && !ev.tokens->empty());
    if (++chunks == 2 && id.load() != 0) fixture().scheduler->abort(id.load());
  };
  uint64_t rid = 0;
  auto fut = submit_search(o, {v}, prompt_tokens("the film"), nullptr, cb, &rid);
  id = rid;
  Run r = fut.get();
  SCHECK(r.outcome.error_code == codes::kAborted, "expected ABORTED, got '%s'", r.outcome.error_code.c_str());
  SCHECK(chunks.load() >= 2 && had_tokens.load(), "onChunk saw %d chunks", chunks.load());
  // The scheduler publishes its KV ledger at the end of the step in which the request ended.
  engine::SchedulerStats st;
  for (int i = 0; i < 500; ++i) {
    st = fixture().scheduler->stats();
    if (st.active == 0 && st.kv.cells_used == 0 && st.kv.live_sequences == 0) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  SCHECK(st.kv.cells_used == 0 && st.kv.live_sequences == 0, "after abort: %lld cells, %d live sequences", static_cast<long long>(st.kv.cells_used),
         st.kv.live_sequences);
}

SEARCH_TEST(argument_checks_have_their_codes) {
  const search::SearchLimits lim = fixture().limits();
  auto v = token_value(liked_token(), 1.0f);
  auto code_of = [&](const SearchOptions& o, const std::vector<ValueRef>& values, int32_t prompt) -> std::string {
    try {
      search::validate_search(o, values, lim, prompt);
      return "";
    } catch (const Error& e) {
      return e.code();
    }
  };
  SearchOptions o = base_options();
  o.betas = {1.0f};
  SCHECK(code_of(o, {v}, 4).empty(), "valid options rejected");
  SearchOptions big = o;
  big.w = 8;
  big.k = 8;
  SCHECK(code_of(big, {v}, 4) == codes::kTooManySequences, "w*k beyond capacity: %s", code_of(big, {v}, 4).c_str());
  SearchOptions l0 = o;
  l0.l = 0;
  SCHECK(code_of(l0, {v}, 4) == codes::kInvalidArgument, "l = 0");
  SearchOptions longer = o;
  longer.max_tokens = lim.n_ctx + 10;
  SCHECK(code_of(longer, {v}, 4) == codes::kContextOverflow, "maxTokens beyond context");
  SearchOptions cells = o;
  cells.max_tokens = 200;  // 16 * 199 cells do not fit 1024
  SCHECK(code_of(cells, {v}, 4) == codes::kContextOverflow, "worst-case cells beyond context");
  auto other = std::make_shared<value::ValueModel>(*v);
  other->meta.vocab_fingerprint = "0123456789abcdef";
  SCHECK(code_of(o, {other}, 4) == codes::kVocabMismatch, "foreign vocabulary: %s", code_of(o, {other}, 4).c_str());
  SearchOptions nobeta = o;
  nobeta.betas = {};
  SCHECK(code_of(nobeta, {v}, 4) == codes::kInvalidArgument, "missing beta");
  SearchOptions badtemp = o;
  badtemp.selection_temperature = 0.0f;
  SCHECK(code_of(badtemp, {v}, 4) == codes::kInvalidArgument, "selection temperature 0");
  auto dense = std::make_shared<value::ValueModel>(*v);
  dense->dims.d_dense = lim.n_embd + 1;
  SCHECK(code_of(o, {dense}, 4) == codes::kInvalidArgument, "dense width mismatch");
  // The factory validates too, so a binding cannot build a policy that the engine cannot run.
  bool threw = false;
  try {
    search::make_value_guided_policy(big, {v}, lim);
  } catch (const Error& e) {
    threw = e.code() == codes::kTooManySequences;
  }
  SCHECK(threw, "factory accepted w*k beyond capacity");
  SCHECK(search::parse_strategy("diverse") == Strategy::kDiverse && search::parse_rerank("reward") == search::Rerank::kReward, "parse");
  threw = false;
  try {
    search::parse_strategy("best");
  } catch (const Error& e) {
    threw = e.code() == codes::kInvalidArgument;
  }
  SCHECK(threw, "unknown strategy accepted");
}

}  // namespace iro::search_test
