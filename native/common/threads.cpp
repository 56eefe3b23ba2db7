#include "native/common/threads.h"

#include <cstdlib>
#include <string>

namespace iro {

int default_thread_count() {
  // IRO_THREADS overrides; otherwise 1. Measured on 2 cores inside a Node process: 2 threads were
  // 6-40x slower than 1 whatever ggml's polling level (see lib/threads.ts and README, Threads).
  if (const char* env = std::getenv("IRO_THREADS")) {
    const int v = std::atoi(env);
    if (v > 0) return v;
  }
  return 1;
}

}  // namespace iro
