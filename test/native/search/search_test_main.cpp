// iro_search_tests: native tests of the value-guided search policy (run by test/search-native.test.ts).
// Usage: iro_search_tests [test-name-substring]. Exit status 0 when every check passed.
#include <cstdlib>
#include <filesystem>
#include <unistd.h>

#include "native/common/error.h"
#include "native/engine/sampling_policy.h"
#include "native/forge/gguf_llama_writer.h"
#include "native/llama/backend.h"
#include "test/native/search/search_test_util.h"

namespace iro::search_test {

Failures& failures() {
  static Failures f;
  return f;
}

std::vector<TestCase>& registry() {
  static std::vector<TestCase> r;
  return r;
}

const std::vector<std::string>& test_pieces() {
  static const std::vector<std::string> p = {"the", " the", "good", " good", "bad", " bad", "film", " film", " is", " and", " not", "."};
  return p;
}

namespace {
std::unique_ptr<Fixture> g_fixture;
}

Fixture& fixture() { return *g_fixture; }

search::SearchLimits Fixture::limits() const {
  search::SearchLimits l;
  l.n_vocab = model->n_vocab();
  l.vocab_fingerprint = model->fingerprint().hex;
  l.n_embd = model->n_embd();
  l.n_seq_max = scheduler->context().n_seq_max();
  l.n_ctx = scheduler->context().n_ctx();
  return l;
}

const engine::CandidateResult* Run::candidate(int32_t index) const {
  for (const auto& c : outcome.result.candidates) {
    if (c.index == index) return &c;
  }
  return nullptr;
}

const engine::CandidateResult* Run::best() const {
  if (!report || report->ranking.empty()) return nullptr;
  return candidate(report->ranking.front());
}

std::future<Run> submit_search(const search::SearchOptions& o, const std::vector<search::ValueRef>& values,
                               const std::vector<int32_t>& prompt, std::shared_ptr<search::SearchReport> report,
                               search::ChunkCallback on_chunk, uint64_t* id) {
  Fixture& f = fixture();
  if (!report) report = std::make_shared<search::SearchReport>();
  auto promise = std::make_shared<std::promise<Run>>();
  auto fut = promise->get_future();
  search::SearchOptions opts = o;
  if (opts.betas.size() != values.size()) opts.betas.assign(values.size(), 1.0f);
  auto policy = search::make_value_guided_policy(opts, values, f.limits(), report, std::move(on_chunk));
  auto spec = search::make_search_spec(opts, values, prompt, false);
  const uint64_t rid = f.scheduler->submit(std::move(spec), std::move(policy), [promise, report](engine::RequestOutcome&& out) {
    Run r;
    r.outcome = std::move(out);
    r.report = report;
    promise->set_value(std::move(r));
  });
  if (id) *id = rid;
  return fut;
}

std::future<Run> submit_plain(int32_t n, const search::SearchOptions& o, const std::vector<int32_t>& prompt) {
  Fixture& f = fixture();
  auto promise = std::make_shared<std::promise<Run>>();
  auto fut = promise->get_future();
  auto spec = search::make_search_spec(o, {}, prompt, false);
  f.scheduler->submit(std::move(spec), std::make_unique<engine::SamplingPolicy>(n), [promise](engine::RequestOutcome&& out) {
    Run r;
    r.outcome = std::move(out);
    promise->set_value(std::move(r));
  });
  return fut;
}

std::vector<int32_t> prompt_tokens(const std::string& text) { return fixture().model->tokenize(text, true, false); }

}  // namespace iro::search_test

int main(int argc, char** argv) {
  using namespace iro::search_test;
  namespace fs = std::filesystem;
  const std::string filter = argc > 1 ? argv[1] : "";
  char tmpl[] = "/tmp/iro-search-test-XXXXXX";
  if (!mkdtemp(tmpl)) {
    std::fprintf(stderr, "cannot create a temp dir\n");
    return 2;
  }
  g_fixture = std::make_unique<Fixture>();
  Fixture& f = *g_fixture;
  f.dir = tmpl;
  f.model_path = f.dir + "/tiny.gguf";
  int rc = 0;
  try {
    iro::ensure_backends_loaded();
    iro::forge::ModelDims dims;
    dims.n_embd = 32;
    dims.n_layer = 2;
    dims.n_head = 4;
    dims.n_head_kv = 2;
    dims.n_ff = 64;
    dims.n_ctx_train = 1024;
    iro::forge::write_random_llama(f.model_path, dims, iro::forge::build_spm_vocab(test_pieces()), 7, "search-test", 0.05f);
    iro::engine::ModelOptions mo;
    mo.path = f.model_path;
    f.model = iro::engine::Model::load(mo);
    iro::engine::ContextOptions co;
    co.context_size = 1024;
    co.max_sequences = 40;
    co.threads = 1;
    f.scheduler = std::make_unique<iro::engine::Scheduler>(f.model, co);
    int ran = 0;
    for (const auto& t : registry()) {
      if (!filter.empty() && std::string(t.name).find(filter) == std::string::npos) continue;
      const int before = failures().count;
      std::fprintf(stderr, "- %s\n", t.name);
      try {
        t.fn();
      } catch (const iro::Error& e) {
        ++failures().count;
        std::fprintf(stderr, "  FAIL: unexpected iro::Error %s: %s\n", e.code().c_str(), e.what());
      } catch (const std::exception& e) {
        ++failures().count;
        std::fprintf(stderr, "  FAIL: unexpected exception: %s\n", e.what());
      }
      std::fprintf(stderr, "  %s\n", failures().count == before ? "ok" : "FAILED");
      ++ran;
    }
    std::fprintf(stderr, "%d tests, %d failed checks\n", ran, failures().count);
    rc = failures().count == 0 && ran > 0 ? 0 : 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "setup failed: %s\n", e.what());
    rc = 2;
  }
  if (f.scheduler) f.scheduler->shutdown();
  f.scheduler.reset();
  f.model.reset();
  std::error_code ec;
  fs::remove_all(f.dir, ec);
  return rc;
}
