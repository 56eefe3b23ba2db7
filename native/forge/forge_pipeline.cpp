#include "native/forge/forge_pipeline.h"

#include <sys/stat.h>

#include <chrono>
#include <cmath>
#include <numeric>

#include "native/common/error.h"
#include "native/common/rng.h"
#include "native/forge/gguf_llama_writer.h"
#include "native/forge/llama_model_file.h"
#include "native/forge/output_file.h"
#include "native/forge/spm_vocab.h"

namespace iro::forge {

void validate_forge_spec(const ForgeSpec& s) {
  validate_corpus(s.documents);
  validate_dims(s.dims);
  validate_train_options(s.train);
  IRO_REQUIRE_ARG(std::isfinite(s.val_fraction) && s.val_fraction >= 0.0f && s.val_fraction < 1.0f, "heldOut must be in [0, 1)");
  IRO_REQUIRE_ARG(std::isfinite(s.init_std) && s.init_std > 0.0f, "initStd must be a positive number");
  IRO_REQUIRE_ARG(std::isfinite(s.embd_std) && s.embd_std > 0.0f, "embdInitStd must be a positive number");
  IRO_REQUIRE_ARG(s.vocab.max_pieces >= 1, "vocabulary size must be positive");
  check_output_path(s.out_path);
}

ForgeReport run_forge(const ForgeSpec& spec, const ProgressFn& on_progress, const AbortFn& should_abort) {
  validate_forge_spec(spec);
  using clock = std::chrono::steady_clock;
  const auto t0 = clock::now();
  ForgeReport rep;

  const LearnedPieces learned = learn_pieces(spec.documents, spec.vocab);
  const SpmVocab vocab = build_spm_vocab(learned.pieces, learned.scores);
  rep.n_vocab = vocab.size();
  rep.n_merges = learned.n_merges;
  rep.n_chars = learned.n_chars;
  rep.seconds_vocab = std::chrono::duration<double>(clock::now() - t0).count();
  if (should_abort && should_abort()) fail(codes::kAborted, "forge was aborted");

  // The untrained model lives in a temporary sibling of the output, removed on every path.
  AtomicOutput init_file(spec.out_path + ".init");
  ModelDims dims = spec.dims;
  dims.n_ctx_train = spec.train.n_ctx;
  write_random_llama(init_file.temp_path(), dims, vocab, spec.seed, spec.name, spec.init_std, spec.embd_std);
  LlamaModelPtr model = load_model(init_file.temp_path(), false, /*writable=*/true);
  rep.n_params = static_cast<int64_t>(llama_model_n_params(model.get()));
  const llama_vocab* v = llama_model_get_vocab(model.get());

  // Seeded document split: the held-out documents are the last ones of a keyed permutation.
  std::vector<size_t> order(spec.documents.size());
  std::iota(order.begin(), order.end(), size_t{0});
  for (size_t i = order.size(); i > 1; --i) {
    const RngKey k{spec.seed, 0x5b11u, 0, static_cast<uint32_t>(i), 4};
    std::swap(order[i - 1], order[static_cast<size_t>((static_cast<uint64_t>(rng_bits(k)) * i) >> 32)]);
  }
  const size_t n_val = spec.val_fraction > 0.0f
                           ? std::max<size_t>(1, static_cast<size_t>(std::floor(spec.val_fraction * order.size())))
                           : 0;
  IRO_REQUIRE_ARG(n_val < order.size(), "the corpus has too few documents for a held-out split; add documents or set heldOut to 0");
  std::vector<int32_t> train_stream, val_stream;
  for (size_t r = 0; r < order.size(); ++r) {
    const std::string& doc = spec.documents[order[r]];
    if (doc.empty()) continue;
    std::vector<int32_t> toks = tokenize(v, doc, /*add_special=*/true);
    if (toks.empty() || toks.front() != llama_vocab_bos(v)) toks.insert(toks.begin(), llama_vocab_bos(v));
    toks.push_back(llama_vocab_eos(v));
    auto& stream = r + n_val >= order.size() ? val_stream : train_stream;
    stream.insert(stream.end(), toks.begin(), toks.end());
    (r + n_val >= order.size() ? rep.val_documents : rep.train_documents) += 1;
  }
  rep.train_tokens = static_cast<int64_t>(train_stream.size());
  rep.val_tokens = static_cast<int64_t>(val_stream.size());
  rep.corpus_tokens = rep.train_tokens + rep.val_tokens;

  rep.train = train_model(model.get(), train_stream, val_stream, spec.train, on_progress, should_abort);
  if (should_abort && should_abort()) fail(codes::kAborted, "forge was aborted");

  AtomicOutput out(spec.out_path);
  llama_model_save_to_file(model.get(), out.temp_path().c_str());
  struct stat st {};
  if (stat(out.temp_path().c_str(), &st) != 0 || st.st_size == 0) fail(codes::kIo, "failed to write " + spec.out_path);
  out.commit();
  rep.file_bytes = st.st_size;
  rep.seconds_total = std::chrono::duration<double>(clock::now() - t0).count();
  return rep;
}

}  // namespace iro::forge
