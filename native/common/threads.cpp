#include "native/common/threads.h"

#include <cstdlib>
#include <string>

namespace iro {

int default_thread_count() {
  // IRO_THREADS overrides; otherwise 1. Measured on 2 cores inside a Node process: extra ggml
  // worker threads spin-wait against the JS thread and slow decoding down (see README, Threads).
  if (const char* env = std::getenv("IRO_THREADS")) {
    const int v = std::atoi(env);
    if (v > 0) return v;
  }
  return 1;
}

}  // namespace iro
