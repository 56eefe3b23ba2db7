// The one JSON number format of value reports (the training report is stored in value files, so
// it must not change): 9 significant digits, null for NaN and infinities.
#pragma once
#include <cmath>
#include <cstdio>
#include <string>

namespace iro::value {

inline void put_json_number(std::string& s, double v) {
  if (!std::isfinite(v)) {
    s += "null";
    return;
  }
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.9g", v);
  s += buf;
}

}  // namespace iro::value
