// Entry of iro_native_tests: runs every IRO_TEST (optionally only those whose name contains argv[1]).
#include <cstring>
#include <exception>

#include "native/common/error.h"
#include "test/native/native_test.h"

int main(int argc, char** argv) {
  const char* filter = argc > 1 ? argv[1] : nullptr;
  int ran = 0;
  for (const auto& c : iro::test::registry()) {
    if (filter && !std::strstr(c.name, filter)) continue;
    const int before = iro::test::failures();
    try {
      c.fn();
    } catch (const std::exception& e) {
      ++iro::test::failures();
      std::fprintf(stderr, "  FAILED %s: unexpected exception: %s\n", c.name, e.what());
    }
    std::printf("%s %s\n", iro::test::failures() == before ? "ok  " : "FAIL", c.name);
    ++ran;
  }
  std::printf("%d tests, %d failed checks\n", ran, iro::test::failures());
  return iro::test::failures() == 0 ? 0 : 1;
}
