#include "native/forge/trainer.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <tuple>

#include "ggml-opt.h"
#include "native/common/error.h"
#include "native/common/rng.h"
#include "native/common/unique_handle.h"
#include "native/forge/llama_model_file.h"

namespace iro::forge {
namespace {

using DatasetPtr = UniqueHandle<ggml_opt_dataset, ggml_opt_dataset_free>;
using ResultPtr = UniqueHandle<ggml_opt_result, ggml_opt_result_free>;

// Learning-rate schedule, called by ggml once per optimizer step.
struct Schedule {
  const TrainOptions* o = nullptr;
  int64_t total = 1;
  int64_t calls = 0;
};

ggml_opt_optimizer_params schedule_params(void* ud) {
  auto* s = static_cast<Schedule*>(ud);
  const int64_t t = s->calls++;
  const int64_t warmup = std::max<int64_t>(1, std::min<int64_t>(50, s->total / 10));
  double lr;
  if (t < warmup) {
    lr = s->o->lr * static_cast<double>(t + 1) / static_cast<double>(warmup);
  } else {
    const double p = std::min(1.0, static_cast<double>(t - warmup) / static_cast<double>(std::max<int64_t>(1, s->total - warmup)));
    lr = s->o->lr_min + 0.5 * (s->o->lr - s->o->lr_min) * (1.0 + std::cos(3.141592653589793 * p));
  }
  ggml_opt_optimizer_params p = ggml_opt_get_default_optimizer_params(nullptr);
  p.adamw.alpha = static_cast<float>(lr);
  p.adamw.beta1 = s->o->beta1;
  p.adamw.beta2 = s->o->beta2;
  p.adamw.eps = 1e-8f;
  p.adamw.wd = s->o->weight_decay;
  p.sgd.alpha = static_cast<float>(lr);
  p.sgd.wd = s->o->weight_decay;
  return p;
}

// A dataset of the given windows (start offsets into the stream): data = n_ctx tokens, labels =
// the same tokens shifted by one.
DatasetPtr make_dataset(const std::vector<int32_t>& stream, const std::vector<int64_t>& starts, int64_t n_ctx) {
  DatasetPtr ds(ggml_opt_dataset_init(GGML_TYPE_I32, GGML_TYPE_I32, n_ctx, n_ctx, static_cast<int64_t>(starts.size()), 1));
  if (!ds) throw std::bad_alloc();
  auto* data = static_cast<int32_t*>(ggml_opt_dataset_data(ds.get())->data);
  auto* labels = static_cast<int32_t*>(ggml_opt_dataset_labels(ds.get())->data);
  for (size_t w = 0; w < starts.size(); ++w) {
    const int32_t* src = stream.data() + starts[w];
    std::copy(src, src + n_ctx, data + w * n_ctx);
    std::copy(src + 1, src + 1 + n_ctx, labels + w * n_ctx);
  }
  return ds;
}

std::vector<int64_t> window_starts(size_t stream_len, int64_t n_ctx) {
  std::vector<int64_t> s;
  for (int64_t start = 0; start + n_ctx + 1 <= static_cast<int64_t>(stream_len); start += n_ctx) s.push_back(start);
  return s;
}

// Seeded Fisher-Yates with keyed draws: the order depends only on (seed, epoch).
void shuffle(std::vector<int64_t>& v, uint64_t seed, uint32_t epoch) {
  for (size_t i = v.size(); i > 1; --i) {
    const RngKey k{seed, 0x7e41u, epoch, static_cast<uint32_t>(i), 3};
    const size_t j = static_cast<size_t>((static_cast<uint64_t>(rng_bits(k)) * i) >> 32);
    std::swap(v[i - 1], v[j]);
  }
}

double result_loss(ggml_opt_result* r) {
  double loss = 0.0, unc = 0.0;
  ggml_opt_result_loss(r, &loss, &unc);
  return loss;
}
double result_accuracy(ggml_opt_result* r) {
  double acc = 0.0, unc = 0.0;
  ggml_opt_result_accuracy(r, &acc, &unc);
  return acc;
}

}  // namespace

void validate_train_options(const TrainOptions& o) {
  IRO_REQUIRE_ARG(o.epochs >= 1 && o.epochs <= 100000, "epochs must be between 1 and 100000");
  IRO_REQUIRE_ARG(o.n_ctx >= 8 && o.n_ctx <= 65536, "context must be between 8 and 65536 tokens");
  IRO_REQUIRE_ARG(std::isfinite(o.lr) && o.lr > 0.0f && o.lr < 1.0f, "learningRate must be in (0, 1)");
  IRO_REQUIRE_ARG(std::isfinite(o.lr_min) && o.lr_min > 0.0f && o.lr_min <= o.lr, "minLearningRate must be in (0, learningRate]");
  IRO_REQUIRE_ARG(std::isfinite(o.weight_decay) && o.weight_decay >= 0.0f && o.weight_decay <= 1.0f, "weightDecay must be in [0, 1]");
  IRO_REQUIRE_ARG(o.beta1 >= 0.0f && o.beta1 < 1.0f && o.beta2 >= 0.0f && o.beta2 < 1.0f, "AdamW betas must be in [0, 1)");
  IRO_REQUIRE_ARG(o.threads >= 1 && o.threads <= 1024, "threads must be between 1 and 1024");
  IRO_REQUIRE_ARG(o.windows_per_chunk >= 1, "windowsPerChunk must be positive");
  IRO_REQUIRE_ARG(o.max_steps >= 0, "maxSteps must be >= 0");
}

TrainResult train_model(llama_model* model, const std::vector<int32_t>& train_stream, const std::vector<int32_t>& val_stream,
                        const TrainOptions& o, const ProgressFn& on_progress, const AbortFn& should_abort) {
  validate_train_options(o);
  using clock = std::chrono::steady_clock;
  const auto t0 = clock::now();
  auto seconds_since = [](clock::time_point t) { return std::chrono::duration<double>(clock::now() - t).count(); };

  llama_context_params cp = llama_context_default_params();
  cp.n_ctx = static_cast<uint32_t>(o.n_ctx);
  cp.n_seq_max = 1;
  cp.n_threads = o.threads;
  cp.n_threads_batch = o.threads;
  cp.type_k = GGML_TYPE_F32;  // the backward pass has no f16 OUT_PROD
  cp.type_v = GGML_TYPE_F32;
  cp.flash_attn_type = LLAMA_FLASH_ATTN_TYPE_DISABLED;
  cp.no_perf = true;
  // Read back the context llama.cpp really allocated; windows must have exactly this length.
  cp.n_batch = static_cast<uint32_t>(o.n_ctx);
  cp.n_ubatch = static_cast<uint32_t>(o.n_ctx);
  auto new_context = [&] {
    LlamaContextPtr c(llama_init_from_model(model, cp));
    if (!c) fail(codes::kInternal, "llama.cpp could not create a training context");
    return c;
  };
  const int64_t n_ctx = static_cast<int64_t>(llama_n_ctx(new_context().get()));
  cp.n_ctx = static_cast<uint32_t>(n_ctx);
  cp.n_batch = static_cast<uint32_t>(n_ctx);
  cp.n_ubatch = static_cast<uint32_t>(n_ctx);
  LlamaContextPtr ctx = new_context();

  // llama.cpp hands its thread count to the CPU backend only inside llama_decode; the training
  // path never does, leaving ggml's default (4 threads), which spin-wait against each other on a
  // small machine. One decode applies our count.
  {
    llama_token bos = llama_vocab_bos(llama_model_get_vocab(model));
    llama_batch one = llama_batch_get_one(&bos, 1);
    if (llama_decode(ctx.get(), one) != 0) fail(codes::kInternal, "llama_decode failed before training");
    llama_memory_clear(llama_get_memory(ctx.get()), true);
  }

  TrainResult res;
  res.n_ctx = static_cast<int32_t>(n_ctx);
  std::vector<int64_t> train_starts = window_starts(train_stream.size(), n_ctx);
  const std::vector<int64_t> val_starts = window_starts(val_stream.size(), n_ctx);
  if (train_starts.empty()) {
    fail(codes::kInvalidArgument, "the training text has " + std::to_string(train_stream.size()) +
                                      " tokens, fewer than one window of the context llama.cpp allocates (" +
                                      std::to_string(n_ctx + 1) + "); give a larger corpus");
  }
  res.train_windows = static_cast<int64_t>(train_starts.size());
  res.val_windows = static_cast<int64_t>(val_starts.size());

  const int64_t steps_per_epoch = res.train_windows;
  Schedule schedule{&o, o.max_steps > 0 ? std::min<int64_t>(o.max_steps, steps_per_epoch * o.epochs) : steps_per_epoch * o.epochs, 0};
  llama_opt_params lp{};
  lp.n_ctx_train = 0;  // = the context's n_ctx
  lp.param_filter = llama_opt_param_filter_all;
  lp.param_filter_ud = nullptr;
  lp.get_opt_pars = schedule_params;
  lp.get_opt_pars_ud = &schedule;
  lp.optimizer_type = GGML_OPT_OPTIMIZER_TYPE_ADAMW;
  llama_opt_init(ctx.get(), model, lp);

  DatasetPtr val_ds = val_starts.empty() ? nullptr : make_dataset(val_stream, val_starts, n_ctx);
  // Held-out (loss, accuracy); NaN without held-out windows.
  auto evaluate = [&]() -> std::pair<double, double> {
    if (!val_ds) return {std::numeric_limits<double>::quiet_NaN(), std::numeric_limits<double>::quiet_NaN()};
    ResultPtr r(ggml_opt_result_init());
    llama_opt_epoch(ctx.get(), val_ds.get(), nullptr, r.get(), 0, nullptr, nullptr);
    return {result_loss(r.get()), result_accuracy(r.get())};
  };
  res.initial_val_loss = evaluate().first;

  int64_t trained_tokens = 0;
  double train_seconds = 0.0;
  auto tokens_per_second = [&] { return train_seconds > 0 ? trained_tokens / train_seconds : 0.0; };
  // One progress report (call only when on_progress is set).
  auto report = [&](const char* phase, int32_t epoch, int64_t done, double loss) {
    TrainProgress p;
    p.phase = phase;
    p.epoch = epoch;
    p.epochs = o.epochs;
    p.step = done;
    p.steps = steps_per_epoch;
    p.loss = loss;
    p.seconds = seconds_since(t0);
    p.tokens_per_second = tokens_per_second();
    on_progress(p);
  };
  auto check_abort = [&] {
    if (should_abort && should_abort()) fail(codes::kAborted, "forge training was aborted");
  };
  bool stop = false;
  for (int32_t epoch = 1; epoch <= o.epochs && !stop; ++epoch) {
    const auto te = clock::now();
    shuffle(train_starts, o.seed, static_cast<uint32_t>(epoch));
    ResultPtr train_result(ggml_opt_result_init());
    int64_t done = 0;
    for (size_t c = 0; c < train_starts.size() && !stop; c += static_cast<size_t>(o.windows_per_chunk)) {
      check_abort();
      size_t end = std::min(train_starts.size(), c + static_cast<size_t>(o.windows_per_chunk));
      if (o.max_steps > 0) end = std::min<size_t>(end, c + static_cast<size_t>(std::max<int64_t>(0, o.max_steps - res.steps)));
      const std::vector<int64_t> chunk(train_starts.begin() + static_cast<long>(c), train_starts.begin() + static_cast<long>(end));
      DatasetPtr ds = make_dataset(train_stream, chunk, n_ctx);
      const auto tc = clock::now();
      llama_opt_epoch(ctx.get(), ds.get(), train_result.get(), nullptr, static_cast<int64_t>(chunk.size()), nullptr, nullptr);
      train_seconds += seconds_since(tc);
      done += static_cast<int64_t>(chunk.size());
      res.steps += static_cast<int64_t>(chunk.size());
      trained_tokens += static_cast<int64_t>(chunk.size()) * n_ctx;
      if (o.max_steps > 0 && res.steps >= o.max_steps) stop = true;
      if (on_progress) report("train", epoch, done, result_loss(train_result.get()));
    }
    check_abort();
    EpochStats st;
    st.epoch = epoch;
    st.train_loss = result_loss(train_result.get());
    st.train_accuracy = result_accuracy(train_result.get());
    std::tie(st.val_loss, st.val_accuracy) = evaluate();
    st.seconds = seconds_since(te);
    res.epochs.push_back(st);
    if (on_progress) report("eval", epoch, done, st.val_loss);
  }
  res.seconds = seconds_since(t0);
  res.tokens_per_second = tokens_per_second();
  return res;
}

}  // namespace iro::forge
