// Minimal harness of the search tests: checks that record failures, a tiny random-init model
// written with the forge, and a synchronous wrapper around Scheduler::submit.
#pragma once
#include <cstdio>
#include <functional>
#include <future>
#include <memory>
#include <string>
#include <vector>

#include "native/engine/scheduler.h"
#include "native/search/search_options.h"

namespace iro::search_test {

struct Failures {
  int count = 0;
};
Failures& failures();

#define SCHECK(cond, ...)                                                                  \
  do {                                                                                     \
    if (!(cond)) {                                                                         \
      ++::iro::search_test::failures().count;                                              \
      std::fprintf(stderr, "  FAIL %s:%d: %s\n    ", __FILE__, __LINE__, #cond);           \
      std::fprintf(stderr, __VA_ARGS__);                                                   \
      std::fprintf(stderr, "\n");                                                          \
    }                                                                                      \
  } while (0)

struct TestCase {
  const char* name;
  std::function<void()> fn;
};
std::vector<TestCase>& registry();
struct Register {
  Register(const char* name, std::function<void()> fn) { registry().push_back({name, std::move(fn)}); }
};
#define SEARCH_TEST(name)                                              \
  static void name();                                                  \
  static ::iro::search_test::Register reg_##name(#name, name);         \
  static void name()

// The shared engine of the tests (tiny random-init llama, 1 thread).
struct Fixture {
  std::string dir, model_path;
  std::shared_ptr<engine::Model> model;
  std::unique_ptr<engine::Scheduler> scheduler;
  search::SearchLimits limits() const;
};
Fixture& fixture();

// Result of one request: outcome + the search report when it was a search.
struct Run {
  engine::RequestOutcome outcome;
  std::shared_ptr<search::SearchReport> report;
  bool ok() const { return outcome.error_code.empty(); }
  // Candidate by candidate index (nullptr when absent).
  const engine::CandidateResult* candidate(int32_t index) const;
  const engine::CandidateResult* best() const;  // report->ranking[0]
};

std::future<Run> submit_search(const search::SearchOptions& o, const std::vector<search::ValueRef>& values,
                               const std::vector<int32_t>& prompt, std::shared_ptr<search::SearchReport> report = nullptr,
                               search::ChunkCallback on_chunk = nullptr, uint64_t* id = nullptr);
std::future<Run> submit_plain(int32_t n, const search::SearchOptions& o, const std::vector<int32_t>& prompt);

// Learned pieces of the test vocabulary (token id = forge::kFirstPieceId + index).
const std::vector<std::string>& test_pieces();

std::vector<int32_t> prompt_tokens(const std::string& text);

}  // namespace iro::search_test
