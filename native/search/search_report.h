// What a value-guided search reports besides the engine's RequestResult: per-net values of the
// final candidates, their rankings, and the search's own counters and timings. The policy fills a
// shared SearchReport on the scheduler thread; the binding reads it in the request's completion
// (which runs on that same thread after the last hook), so no locking is needed.
#pragma once
#include <cstdint>
#include <functional>
#include <unordered_map>
#include <vector>

namespace iro::search {

// One selection, recorded only when SearchReport::record_selections is set (tests, debugging).
struct SelectionRecord {
  std::vector<std::vector<int32_t>> generation;  // response tokens of every candidate that competed
  std::vector<std::vector<int32_t>> kept;        // response tokens of the chosen parents, in selection order
  std::vector<float> generation_scores;
};

struct SearchReport {
  bool record_selections = false;  // set before submitting to fill `selections`
  std::vector<SelectionRecord> selections;
  int32_t n_values = 0;
  // Per final candidate (by candidate index): V_m for every value function, in option order.
  std::unordered_map<int32_t, std::vector<float>> values;
  std::vector<int32_t> ranking;  // final candidates by combined value, best first (ties: lower index)
  std::vector<int32_t> order;    // final candidates in the search's own order (last selection first)
  int32_t chunks = 0;            // chunk boundaries at which a selection ran
  int64_t value_evaluations = 0; // prefix states scored (each by every value function)
  int64_t peak_kv_cells = 0;     // most KV cells this request held (prompt included), seen at boundaries
  double featurize_score_ms = 0, select_ms = 0;
  bool finalized = false;
};

// Streamed after every selection and once at the end: the current best beam.
struct ChunkEvent {
  int32_t chunk = 0;                       // 1-based selection count (final event repeats the last)
  int32_t best_index = -1;                 // candidate index of the best kept beam
  const std::vector<int32_t>* tokens = nullptr;  // its response tokens (valid during the call only)
  double score = 0.0;                      // its combined value
  int32_t live = 0;                        // live sequences after the expansion
  bool final = false;
};
using ChunkCallback = std::function<void(const ChunkEvent&)>;

}  // namespace iro::search
