// Minimal test harness of the `iro_native_tests` executable (no Node, no framework): a test is a
// function registered with IRO_TEST; CHECK records a failure and continues. main() lives in
// test/native/test_main.cpp and returns non-zero when any check failed.
#pragma once
#include <cstdio>
#include <functional>
#include <string>
#include <vector>

namespace iro::test {

struct Case {
  const char* name;
  std::function<void()> fn;
};

inline std::vector<Case>& registry() {
  static std::vector<Case> cases;
  return cases;
}
inline int& failures() {
  static int n = 0;
  return n;
}

struct Register {
  Register(const char* name, std::function<void()> fn) { registry().push_back({name, std::move(fn)}); }
};

inline void check(bool ok, const char* expr, const char* file, int line, const std::string& note = "") {
  if (ok) return;
  ++failures();
  std::fprintf(stderr, "  FAILED %s:%d: %s %s\n", file, line, expr, note.c_str());
}

}  // namespace iro::test

#define IRO_TEST_CAT2(a, b) a##b
#define IRO_TEST_CAT(a, b) IRO_TEST_CAT2(a, b)
#define IRO_TEST(name)                                                                              \
  static void name();                                                                               \
  static const ::iro::test::Register IRO_TEST_CAT(iro_test_reg_, name)(#name, name);                \
  static void name()
#define CHECK(expr) ::iro::test::check(static_cast<bool>(expr), #expr, __FILE__, __LINE__)
#define CHECK_MSG(expr, note) ::iro::test::check(static_cast<bool>(expr), #expr, __FILE__, __LINE__, (note))
// Expects `stmt` to throw iro::Error with the given code.
#define CHECK_THROWS_CODE(stmt, code_str)                                                            \
  do {                                                                                              \
    std::string got_ = "no exception";                                                              \
    try {                                                                                           \
      stmt;                                                                                         \
    } catch (const ::iro::Error& e_) {                                                              \
      got_ = e_.code();                                                                             \
    } catch (...) {                                                                                 \
      got_ = "other exception";                                                                     \
    }                                                                                               \
    ::iro::test::check(got_ == std::string(code_str), #stmt, __FILE__, __LINE__, std::string("should throw ") + (code_str) + " (got " + got_ + ")"); \
  } while (0)
