// Weighted resampling and selection over segmented score arrays (DESIGN.md §4.2). CPU reference;
// cuda/resample.h is its twin with the same contract and identical selections.
//
// Segments: the candidates of request s are scores[offsets[s] .. offsets[s+1]-1] (offsets has
// n_segments + 1 entries, offsets[0] >= 0, non-decreasing). Every index written to an output is a
// LOCAL index inside its segment (0 .. len_s - 1), i.e. a slot id within the request.
//
// Scores: finite values or -inf ("dead" candidate: weight 0, ranked below every finite score, never
// drawn). NaN or +inf anywhere, or a non-empty segment whose scores are all -inf, throws
// iro::Error(INVALID_ARGUMENT) naming the segment and index. Empty segments are allowed and produce
// nothing (draws / top-w from an empty segment are an error).
//
// Ranking (top-w, diverse, group-best): higher score first, ties by lower index; -inf last.
//
// Weights (softmax, draws), all in double:
//   m = max finite score;  z_i = (double(s_i) - double(m)) / double(tau);  w_i = det_exp(z_i)  (0 for -inf)
//       (det_exp: native/common/det_exp.h, the same bits on the CPU and on CUDA)
//   C = the inclusive prefix sums of w in blocks of kCdfBlock: within a block sequentially in index
//       order, then block totals added sequentially (C_i = sum of previous block totals + in-block
//       prefix). total = C_last.  The CUDA twin computes C with exactly this association, so both
//       pick the same candidates.
//   A draw at fraction p in [0, 1) picks the first local index i with C_i > p * total (never a zero
//   weight); if rounding leaves none, the last index with w_i > 0.
// Random numbers: u = rng_uniform(RngKey{seed, request, sequence, position, kResampleLane}) with
// request = request_ids ? request_ids[s] : s, position = the caller's `step`, and sequence = the
// draw index inside the segment, so results never depend on how requests were batched.
//   systematic:  u0 = uniform(sequence 0);  p_i = (u0 + i) / n
//   stratified:  p_i = (i + uniform(sequence i)) / n
//   multinomial: p_i = uniform(sequence i)                  (draws are not sorted)
// where n = the number of draws of that segment; p_i is computed in double.
#pragma once
#include <cstdint>
#include <memory>

namespace iro {

enum class ResampleMethod : int32_t { kSystematic = 0, kStratified = 1, kMultinomial = 2 };

// RNG lane of resampling draws (token sampling uses lane 0).
inline constexpr uint32_t kResampleLane = 1;
// Block size of the CDF summation (part of the contract: it fixes the floating-point association).
inline constexpr int32_t kCdfBlock = 1024;

// Checks offsets and scores as described above; throws INVALID_ARGUMENT.
void validate_segment_scores(const float* scores, const int32_t* offsets, int32_t n_segments);

// The complete argument checks of each entry point below (INVALID_ARGUMENT naming the problem).
// The CUDA twin runs the very same ones, so both sides reject the same inputs with the same messages.
void validate_softmax_args(const float* scores, const int32_t* offsets, int32_t n_segments, float tau);
void validate_resample_args(const float* scores, const int32_t* offsets, int32_t n_segments, float tau, ResampleMethod method,
                            const int32_t* draw_offsets);
void validate_top_w_args(const float* scores, const int32_t* offsets, int32_t n_segments, int32_t w);  // top_w, diverse_top_w
void validate_group_best_args(const float* scores, const int32_t* offsets, int32_t n_segments, int32_t k);

// Normalised log-weights of softmax(score / tau) per segment and the effective sample size.
//   log_weights[j] = z_j - log(total)  (float; -inf for -inf scores), indexed like scores (global j);
//   ess[s] = total^2 / sum_i w_i^2     (1 .. len_s; 0 for an empty segment).
// Either output may be null. tau must be finite and > 0.
void softmax_weights(const float* scores, const int32_t* offsets, int32_t n_segments, float tau, float* log_weights,
                     float* ess, int threads);

// Reusable scratch of resample(): the CDF and target buffers of a large segment are megabytes, and a
// fresh allocation costs its page faults on every call (as long as the resampling itself at 10^6
// candidates). Pass the same workspace to repeated calls to keep them. It only holds memory (never
// affects results); one call at a time per workspace.
class ResampleWorkspace {
 public:
  ResampleWorkspace();
  ~ResampleWorkspace();
  ResampleWorkspace(const ResampleWorkspace&) = delete;
  ResampleWorkspace& operator=(const ResampleWorkspace&) = delete;
  struct Buffers;
  Buffers& buffers() { return *buffers_; }

 private:
  std::unique_ptr<Buffers> buffers_;
};

// Draws draw_offsets[s+1] - draw_offsets[s] local indices from segment s with probabilities
// softmax(score / tau), by `method`, into draws[draw_offsets[s] ..]. draw_offsets has n_segments + 1
// non-decreasing entries (draw_offsets[0] >= 0). request_ids is nullable (then request = s).
void resample(const float* scores, const int32_t* offsets, int32_t n_segments, float tau, ResampleMethod method,
              const int32_t* draw_offsets, uint64_t seed, uint32_t step, const uint32_t* request_ids, int32_t* draws,
              int threads, ResampleWorkspace* workspace = nullptr);

// The w best local indices of every segment, best first, into out[s*w .. s*w + w - 1].
// Requires 0 <= w <= len_s for every segment (-inf candidates fill only when w exceeds the finite ones).
void top_w(const float* scores, const int32_t* offsets, int32_t n_segments, int32_t w, int32_t* out, int threads);

// Diversity-first top-w: candidates with identical continuation hashes (hashes indexed like scores)
// count once. Output out[s*w ..] in this order: (1) the best member of each distinct hash among the
// finite candidates, in rank order; (2) then the best remaining finite candidates (duplicates), in
// rank order; (3) then -inf candidates by index. Requires 0 <= w <= len_s.
void diverse_top_w(const float* scores, const uint64_t* hashes, const int32_t* offsets, int32_t n_segments, int32_t w,
                   int32_t* out, int threads);

// Group-best: segment s holds len_s / k groups of k consecutive children (len_s must be a multiple of
// k >= 1); out[(offsets[s] - offsets[0]) / k + g] = local index (g*k + j) of the best child of group g.
// A group of only -inf children yields its first child.
void group_best(const float* scores, const int32_t* offsets, int32_t n_segments, int32_t k, int32_t* out, int threads);

}  // namespace iro
