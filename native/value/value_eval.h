// Evaluation of a value function on held-out rows: weighted MSE over all prefix states, Spearman
// rank correlation between the predicted value and the true reward at 25/50/75/100% of each
// response, and calibration by deciles of the prediction.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "native/value/value_dataset.h"
#include "native/value/value_model.h"

namespace iro::value {

inline constexpr float kEvalFractions[4] = {0.25f, 0.5f, 0.75f, 1.0f};

struct CalibrationBin {
  double mean_predicted = 0, mean_target = 0;
  uint64_t count = 0;
};

struct EvalReport {
  uint64_t rows = 0, states = 0;
  double mse = 0;                // weighted over every prefix state (NaN when there is none)
  double spearman[4] = {};       // at kEvalFractions (NaN when undefined)
  double mse_at[4] = {};         // unweighted MSE at kEvalFractions
  std::vector<CalibrationBin> calibration;  // up to 10 bins, ascending prediction
  std::string to_json() const;
};

// Predicted value of every prefix state of `rows` (in PrefixIndex order per row), concatenated.
std::vector<float> predict_states(const ValueModel& m, const ValueDataset& data, const PrefixIndex& ix,
                                  const std::vector<int32_t>& rows, int threads);
double weighted_mse(const ValueModel& m, const ValueDataset& data, const PrefixIndex& ix, const std::vector<int32_t>& rows,
                    int threads);
EvalReport evaluate(const ValueModel& m, const ValueDataset& data, const PrefixIndex& ix, const std::vector<int32_t>& rows,
                    int threads);

double spearman(const std::vector<double>& x, const std::vector<double>& y);

}  // namespace iro::value
