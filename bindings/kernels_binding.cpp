// N-API surface of the kernels area: value scoring, resampling/selection and beam expansion over
// typed arrays (for tests and benchmarks; the engine calls the C++ functions directly). Only
// argument checking and conversion here. Calls are synchronous: each is one kernel invocation
// (milliseconds at the benchmark's largest shapes). `device: 'cuda'` selects the CUDA twin in the
// CUDA variant.
#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "bindings/modules.h"
#include "bindings/napi_util.h"
#include "native/common/huge_pages.h"
#include "native/kernels/beam_expand.h"
#include "native/kernels/resample.h"
#include "native/kernels/value_score.h"
#if defined(IRO_WITH_CUDA)
#include "cuda/beam_expand.h"
#include "cuda/resample.h"
#include "cuda/value_score.h"
#endif

namespace iro::napi {
namespace {

struct KernelOptions {
  int threads = 1;
  bool cuda = false;
};

KernelOptions read_options(const Napi::CallbackInfo& info, size_t i) {
  KernelOptions o;
  if (info.Length() <= i || info[i].IsUndefined() || info[i].IsNull()) return o;
  IRO_EXPECT(info[i].IsObject(), "options must be an object");
  const Napi::Object obj = info[i].As<Napi::Object>();
  const double t = number_field(obj, "threads", 1);
  IRO_EXPECT(t >= 1 && t <= 1024 && t == static_cast<int>(t), "threads must be an integer between 1 and 1024");
  o.threads = static_cast<int>(t);
  const Napi::Value dev = obj.Get("device");
  if (!dev.IsUndefined() && !dev.IsNull()) {
    IRO_EXPECT(dev.IsString(), "device must be 'cpu' or 'cuda'");
    const std::string d = dev.As<Napi::String>().Utf8Value();
    IRO_EXPECT(d == "cpu" || d == "cuda", "device must be 'cpu' or 'cuda', got '" + d + "'");
    o.cuda = d == "cuda";
#if !defined(IRO_WITH_CUDA)
    IRO_EXPECT(!o.cuda, "device 'cuda' needs the CUDA variant of iro-native (this is the " IRO_VARIANT " variant); use device 'cpu'");
#endif
  }
  return o;
}

template <typename T>
Napi::TypedArrayOf<T> arg_array(const Napi::CallbackInfo& info, size_t i, const char* name) {
  IRO_EXPECT(info.Length() > i, std::string(name) + " is required");
  return typed_array<T>(info[i], name);
}

template <typename T>
bool has_field(const Napi::Object& o, const char* key) {
  const Napi::Value v = o.Get(key);
  return !v.IsUndefined() && !v.IsNull();
}

template <typename T>
Napi::TypedArrayOf<T> field_array(const Napi::Object& o, const char* key) {
  return typed_array<T>(o.Get(key), key);
}

int32_t int_value(const Napi::Value& v, const char* name, double lo, double hi) {
  IRO_EXPECT(v.IsNumber(), std::string(name) + " must be a number");
  const double d = v.As<Napi::Number>().DoubleValue();
  IRO_EXPECT(d == static_cast<double>(static_cast<int64_t>(d)) && d >= lo && d <= hi,
         std::string(name) + " must be an integer in [" + std::to_string(static_cast<int64_t>(lo)) + ", " + std::to_string(static_cast<int64_t>(hi)) + "]");
  return static_cast<int32_t>(d);
}

uint64_t seed_value(const Napi::Value& v) {
  if (v.IsBigInt()) {
    bool lossless = true;
    const uint64_t s = v.As<Napi::BigInt>().Uint64Value(&lossless);
    IRO_EXPECT(lossless, "seed must fit in 64 unsigned bits");
    return s;
  }
  IRO_EXPECT(v.IsNumber(), "seed must be a non-negative integer (number or bigint)");
  const double d = v.As<Napi::Number>().DoubleValue();
  IRO_EXPECT(d >= 0 && d <= 9007199254740991.0 && d == static_cast<double>(static_cast<uint64_t>(d)), "seed must be a non-negative safe integer or a bigint");
  return static_cast<uint64_t>(d);
}

// offsets: n+1 entries, offsets[0] >= 0, offsets[n] in [offsets[0], data_len]. Monotonicity is checked by the kernel.
int32_t check_offsets(const Napi::TypedArrayOf<int32_t>& off, size_t data_len, const char* name) {
  IRO_EXPECT(off.ElementLength() >= 1, std::string(name) + " needs n + 1 >= 1 entries");
  const size_t n = off.ElementLength() - 1;
  IRO_EXPECT(off[0] >= 0 && off[n] >= off[0] && static_cast<size_t>(off[n]) <= data_len,
         std::string(name) + " must start at >= 0 and end within the data (" + std::to_string(data_len) + " entries)");
  return static_cast<int32_t>(n);
}

// Runs the CUDA twin when the options ask for it (CUDA variant only), else the CPU kernel; both
// take the same arguments.
#if defined(IRO_WITH_CUDA)
#define IRO_RUN_KERNEL(opt, fn, ...) ((opt).cuda ? iro::cuda::fn(__VA_ARGS__) : iro::fn(__VA_ARGS__))
#else
#define IRO_RUN_KERNEL(opt, fn, ...) iro::fn(__VA_ARGS__)
#endif

// The segmented scores every resampling / selection kernel takes: scores, then n + 1 offsets.
struct SegmentArgs {
  Napi::Float32Array scores;
  Napi::Int32Array offsets;
  int32_t n;
};
SegmentArgs segment_args(const Napi::CallbackInfo& info, size_t scores_at, size_t offsets_at) {
  SegmentArgs a{arg_array<float>(info, scores_at, "scores"), arg_array<int32_t>(info, offsets_at, "offsets"), 0};
  a.n = check_offsets(a.offsets, a.scores.ElementLength(), "offsets");
  return a;
}

float tau_arg(const Napi::CallbackInfo& info, size_t i) {
  IRO_EXPECT(info.Length() > i && info[i].IsNumber(), "tau must be a number");
  return info[i].As<Napi::Number>().FloatValue();
}

// ---- value scoring ----

Napi::Value ScoreValues(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guard(env, [&]() -> Napi::Value {
    const Napi::Object f = object_arg(info, 0, "features");
    IRO_EXPECT(info.Length() > 1 && info[1].IsArray(), "nets must be an array");
    const Napi::Array nets_js = info[1].As<Napi::Array>();
    const auto betas = arg_array<float>(info, 2, "betas");
    const KernelOptions opt = read_options(info, 3);

    const auto offsets = field_array<int32_t>(f, "offsets");
    const auto ids = field_array<uint32_t>(f, "ids");
    SparseFeatures x;
    x.n_states = check_offsets(offsets, ids.ElementLength(), "features.offsets");
    x.offsets = offsets.Data();
    x.ids = ids.Data();
    const size_t n_ids = static_cast<size_t>(offsets[offsets.ElementLength() - 1]);
    if (has_field<float>(f, "weights")) {
      const auto w = field_array<float>(f, "weights");
      IRO_EXPECT(w.ElementLength() >= n_ids, "features.weights must have one entry per id");
      x.weights = w.Data();
    }
    if (has_field<float>(f, "dense")) {
      const auto d = field_array<float>(f, "dense");
      x.d_dense = int_value(f.Get("dDense"), "features.dDense", 1, 1 << 20);
      IRO_EXPECT(d.ElementLength() >= static_cast<size_t>(x.n_states) * static_cast<size_t>(x.d_dense),
             "features.dense must hold nStates * dDense values");
      x.dense = d.Data();
    }
    const int32_t n_nets = static_cast<int32_t>(nets_js.Length());
    IRO_EXPECT(betas.ElementLength() == static_cast<size_t>(n_nets), "betas must have one entry per net");
    std::vector<ValueNetView> nets(static_cast<size_t>(n_nets));
    for (int32_t m = 0; m < n_nets; ++m) {
      IRO_EXPECT(nets_js.Get(m).IsObject(), "nets[" + std::to_string(m) + "] must be an object");
      const Napi::Object o = nets_js.Get(m).As<Napi::Object>();
      ValueNetView& v = nets[static_cast<size_t>(m)];
      v.dims.n_buckets = int_value(o.Get("nBuckets"), "net.nBuckets", 1, 2147483647.0);
      v.dims.d = int_value(o.Get("d"), "net.d", 1, 1 << 16);
      v.dims.hidden = int_value(o.Get("hidden"), "net.hidden", 1, 1 << 16);
      v.dims.d_dense = o.Get("dDense").IsUndefined() ? 0 : int_value(o.Get("dDense"), "net.dDense", 0, 1 << 20);
      const size_t d = static_cast<size_t>(v.dims.d), h = static_cast<size_t>(v.dims.hidden);
      auto need = [&](const char* key, size_t n) -> const float* {
        const auto a = field_array<float>(o, key);
        IRO_EXPECT(a.ElementLength() >= n, std::string("net.") + key + " must hold " + std::to_string(n) + " values");
        return a.Data();
      };
      v.E = need("E", static_cast<size_t>(v.dims.n_buckets) * d);
      if (v.dims.d_dense > 0) v.P = need("P", static_cast<size_t>(v.dims.d_dense) * d);
      v.b0 = need("b0", d);
      v.W1 = need("W1", h * d);
      v.b1 = need("b1", h);
      v.w2 = need("w2", h);
      IRO_EXPECT(o.Get("b2").IsNumber(), "net.b2 must be a number");
      v.b2 = o.Get("b2").As<Napi::Number>().FloatValue();
    }
    auto values = Napi::Float32Array::New(env, static_cast<size_t>(x.n_states) * static_cast<size_t>(n_nets));
    auto combined = Napi::Float32Array::New(env, static_cast<size_t>(x.n_states));
    IRO_RUN_KERNEL(opt, score_values, x, nets.data(), n_nets, betas.Data(), values.Data(), combined.Data(), opt.threads);
    Napi::Object out = Napi::Object::New(env);
    out.Set("values", values);
    out.Set("combined", combined);
    return out;
  });
}

// ---- resampling and selection ----

Napi::Value SoftmaxWeights(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guard(env, [&]() -> Napi::Value {
    const SegmentArgs sg = segment_args(info, 0, 1);
    const float tau = tau_arg(info, 2);
    const KernelOptions opt = read_options(info, 3);
    auto lw = Napi::Float32Array::New(env, sg.scores.ElementLength());  // zero-filled: entries outside the segments stay 0
    auto ess = Napi::Float32Array::New(env, static_cast<size_t>(sg.n));
    IRO_RUN_KERNEL(opt, softmax_weights, sg.scores.Data(), sg.offsets.Data(), sg.n, tau, lw.Data(), ess.Data(), opt.threads);
    Napi::Object out = Napi::Object::New(env);
    out.Set("logWeights", lw);
    out.Set("ess", ess);
    return out;
  });
}

Napi::Value Resample(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guard(env, [&]() -> Napi::Value {
    const SegmentArgs sg = segment_args(info, 0, 1);
    const int32_t n = sg.n;
    const float tau = tau_arg(info, 2);
    IRO_EXPECT(info.Length() > 3, "method is required");
    const int32_t method = int_value(info[3], "method", 0, 2);
    const auto draw_offsets = arg_array<int32_t>(info, 4, "drawOffsets");
    IRO_EXPECT(info.Length() > 6, "seed and step are required");
    const uint64_t seed = seed_value(info[5]);
    const uint32_t step = static_cast<uint32_t>(int_value(info[6], "step", 0, 2147483647.0));
    const uint32_t* request_ids = nullptr;
    if (info.Length() > 7 && !info[7].IsUndefined() && !info[7].IsNull()) {
      const auto r = typed_array<uint32_t>(info[7], "requestIds");
      IRO_EXPECT(r.ElementLength() == static_cast<size_t>(n), "requestIds must have one entry per segment");
      request_ids = r.Data();
    }
    const KernelOptions opt = read_options(info, 8);
    IRO_EXPECT(draw_offsets.ElementLength() == static_cast<size_t>(n) + 1, "drawOffsets must have one entry more than there are segments");
    const int32_t last = draw_offsets[static_cast<size_t>(n)];
    IRO_EXPECT(draw_offsets[0] >= 0 && last >= draw_offsets[0], "drawOffsets must start at >= 0 and not decrease");
    Napi::Int32Array draws;
    if (info.Length() > 9 && !info[9].IsUndefined() && !info[9].IsNull()) {
      draws = typed_array<int32_t>(info[9], "out");
      IRO_EXPECT(draws.ElementLength() == static_cast<size_t>(last),
                 "out must have one entry per draw (" + std::to_string(last) + "), got " + std::to_string(draws.ElementLength()));
    } else {
      draws = Napi::Int32Array::New(env, static_cast<size_t>(last));  // every entry is written
    }
#if defined(IRO_WITH_CUDA)
    if (opt.cuda)
      iro::cuda::resample(sg.scores.Data(), sg.offsets.Data(), n, tau, static_cast<ResampleMethod>(method), draw_offsets.Data(), seed, step,
                          request_ids, draws.Data(), opt.threads);
    else
#endif
      // The CPU kernel also gets the environment's workspace (register_kernels).
      iro::resample(sg.scores.Data(), sg.offsets.Data(), n, tau, static_cast<ResampleMethod>(method), draw_offsets.Data(), seed, step,
                    request_ids, draws.Data(), opt.threads, static_cast<ResampleWorkspace*>(info.Data()));
    return draws;
  });
}

Napi::Value TopW(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guard(env, [&]() -> Napi::Value {
    const SegmentArgs sg = segment_args(info, 0, 1);
    IRO_EXPECT(info.Length() > 2, "w is required");
    const int32_t w = int_value(info[2], "w", 0, 1 << 30);
    const KernelOptions opt = read_options(info, 3);
    auto out = Napi::Int32Array::New(env, static_cast<size_t>(sg.n) * static_cast<size_t>(w));
    IRO_RUN_KERNEL(opt, top_w, sg.scores.Data(), sg.offsets.Data(), sg.n, w, out.Data(), opt.threads);
    return out;
  });
}

Napi::Value DiverseTopW(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guard(env, [&]() -> Napi::Value {
    IRO_EXPECT(info.Length() > 1 && info[1].IsTypedArray() && info[1].As<Napi::TypedArray>().TypedArrayType() == napi_biguint64_array,
           "hashes must be a BigUint64Array");
    const auto hashes = info[1].As<Napi::TypedArrayOf<uint64_t>>();
    const SegmentArgs sg = segment_args(info, 0, 2);
    IRO_EXPECT(info.Length() > 3, "w is required");
    const int32_t w = int_value(info[3], "w", 0, 1 << 30);
    const KernelOptions opt = read_options(info, 4);
    IRO_EXPECT(hashes.ElementLength() >= static_cast<size_t>(sg.offsets[static_cast<size_t>(sg.n)]), "hashes must have one entry per score");
    auto out = Napi::Int32Array::New(env, static_cast<size_t>(sg.n) * static_cast<size_t>(w));
    IRO_RUN_KERNEL(opt, diverse_top_w, sg.scores.Data(), hashes.Data(), sg.offsets.Data(), sg.n, w, out.Data(), opt.threads);
    return out;
  });
}

Napi::Value GroupBest(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guard(env, [&]() -> Napi::Value {
    const SegmentArgs sg = segment_args(info, 0, 1);
    IRO_EXPECT(info.Length() > 2, "k is required");
    const int32_t k = int_value(info[2], "k", 1, 1 << 30);
    const KernelOptions opt = read_options(info, 3);
    const int32_t span = sg.offsets[static_cast<size_t>(sg.n)] - sg.offsets[0];
    auto out = Napi::Int32Array::New(env, static_cast<size_t>(span / k));
    IRO_RUN_KERNEL(opt, group_best, sg.scores.Data(), sg.offsets.Data(), sg.n, k, out.Data(), opt.threads);
    return out;
  });
}

// ---- beam expansion ----


SamplingParams read_params(const Napi::Value& v) {
  SamplingParams p;
  IRO_EXPECT(v.IsObject(), "sampling params must be an object");
  const Napi::Object o = v.As<Napi::Object>();
  p.temperature = static_cast<float>(number_field(o, "temperature", p.temperature));
  p.top_k = static_cast<int32_t>(number_field(o, "topK", p.top_k));
  p.top_p = static_cast<float>(number_field(o, "topP", p.top_p));
  p.min_p = static_cast<float>(number_field(o, "minP", p.min_p));
  return p;
}

Napi::Value ExpandBeams(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guard(env, [&]() -> Napi::Value {
    const Napi::Object a = object_arg(info, 0, "args");
    const KernelOptions opt = read_options(info, 1);
    const auto parent_offsets = field_array<int32_t>(a, "parentOffsets");
    const auto parents = field_array<int32_t>(a, "parents");
    const auto k = field_array<int32_t>(a, "k");
    BeamBatch b;
    b.n_requests = check_offsets(parent_offsets, parents.ElementLength(), "parentOffsets");
    IRO_EXPECT(k.ElementLength() == static_cast<size_t>(b.n_requests), "k must have one entry per request");
    b.parent_offsets = parent_offsets.Data();
    b.parents = parents.Data();
    b.k = k.Data();
    const BeamLayout probe = plan_beams(b);  // validates and sizes the slot arrays
    const size_t total = static_cast<size_t>(probe.total_slots());

    const auto logits = field_array<float>(a, "logits");
    BeamLogits lg;
    lg.n_vocab = int_value(a.Get("nVocab"), "nVocab", 1, 1 << 30);
    lg.logits = logits.Data();
    lg.n_rows = static_cast<int32_t>(logits.ElementLength() / static_cast<size_t>(lg.n_vocab));
    if (has_field<int32_t>(a, "rows")) {
      const auto rows = field_array<int32_t>(a, "rows");
      IRO_EXPECT(rows.ElementLength() >= total, "rows must have one entry per slot");
      lg.rows = rows.Data();
    }
    std::vector<SamplingParams> params;
    const Napi::Value pv = a.Get("params");
    if (pv.IsArray()) {
      const Napi::Array arr = pv.As<Napi::Array>();
      for (uint32_t i = 0; i < arr.Length(); ++i) params.push_back(read_params(arr.Get(i)));
    } else {
      params.push_back(read_params(pv.IsUndefined() ? Napi::Object::New(env) : pv));
    }
    BeamSampling sp;
    sp.params = params.data();
    sp.n_params = static_cast<int32_t>(params.size());
    sp.seed = seed_value(a.Get("seed"));
    if (has_field<uint32_t>(a, "requestIds")) {
      const auto r = field_array<uint32_t>(a, "requestIds");
      IRO_EXPECT(r.ElementLength() == static_cast<size_t>(b.n_requests), "requestIds must have one entry per request");
      sp.request_ids = r.Data();
    }
    // Histories are copied: the caller's arrays are left untouched.
    const auto lengths_in = field_array<int32_t>(a, "lengths");
    IRO_EXPECT(lengths_in.ElementLength() == total, "lengths must have one entry per slot (" + std::to_string(total) + ")");
    const int32_t capacity = int_value(a.Get("capacity"), "capacity", 0, 1 << 24);
    auto lengths = Napi::Int32Array::New(env, total);
    std::copy(lengths_in.Data(), lengths_in.Data() + total, lengths.Data());
    Napi::Int32Array hist;
    BeamHistories h;
    h.lengths = lengths.Data();
    h.capacity = capacity;
    if (has_field<int32_t>(a, "tokens")) {
      const auto tok = field_array<int32_t>(a, "tokens");
      IRO_EXPECT(tok.ElementLength() == total * static_cast<size_t>(capacity), "tokens must hold slots * capacity entries");
      hist = Napi::Int32Array::New(env, tok.ElementLength());
      std::copy(tok.Data(), tok.Data() + tok.ElementLength(), hist.Data());
      h.tokens = hist.Data();
    }
    const BeamExpansion e = IRO_RUN_KERNEL(opt, expand_beams, b, lg, sp, h, opt.threads);
    Napi::Object out = Napi::Object::New(env);
    out.Set("slotOffsets", to_typed_array(env, e.layout.slot_offsets));
    out.Set("childParent", to_typed_array(env, e.layout.child_parent));
    out.Set("childParentIndex", to_typed_array(env, e.layout.child_parent_index));
    out.Set("childNumber", to_typed_array(env, e.layout.child_number));
    std::vector<int32_t> forks;
    for (const ForkOp& f : e.layout.forks) {
      forks.push_back(f.dst_slot);
      forks.push_back(f.src_slot);
    }
    out.Set("forks", to_typed_array(env, forks));
    out.Set("forkOffsets", to_typed_array(env, e.layout.fork_offsets));
    out.Set("tokens", to_typed_array(env, e.tokens));
    out.Set("logprobs", to_typed_array(env, e.logprobs));
    out.Set("lengths", lengths);
    if (h.tokens) out.Set("history", hist);
    return out;
  });
}

}  // namespace

// A zero-filled Float32Array whose memory comes from huge_page_alloc (2 MiB aligned, advised for
// transparent huge pages), for large embedding tables; freed when the array is collected.
Napi::Value HugeFloat32Array(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guard(env, [&]() -> Napi::Value {
    IRO_EXPECT(info.Length() > 0, "length is required");
    const size_t n = static_cast<size_t>(int_value(info[0], "length", 0, 1073741823.0));  // < 4 GiB of float32
    const size_t bytes = std::max<size_t>(n, 1) * sizeof(float);
    std::unique_ptr<void, void (*)(void*)> p(huge_page_alloc(bytes), std::free);
    std::memset(p.get(), 0, bytes);
    // Counted as external memory, so that V8's GC knows what dropping the array frees.
    const int64_t counted = static_cast<int64_t>(bytes);
    Napi::ArrayBuffer buf = Napi::ArrayBuffer::New(env, p.get(), n * sizeof(float), [counted](Napi::Env e, void* data) {
      std::free(data);
      Napi::MemoryManagement::AdjustExternalMemory(e, -counted);
    });
    p.release();
    Napi::MemoryManagement::AdjustExternalMemory(env, counted);
    return Napi::Float32Array::New(env, n, buf, 0);
  });
}

void register_kernels(Napi::Env env, Napi::Object exports) {
  export_functions(env, exports, {{"kernelsScoreValues", ScoreValues}, {"kernelsSoftmaxWeights", SoftmaxWeights}, {"kernelsTopW", TopW},
                                  {"kernelsDiverseTopW", DiverseTopW}, {"kernelsGroupBest", GroupBest}, {"kernelsExpandBeams", ExpandBeams},
                                  {"kernelsHugeFloat32Array", HugeFloat32Array}});
  // One workspace per environment (calls are synchronous on its JS thread): repeated large
  // resampling calls reuse their scratch. Freed with the environment.
  auto* workspace = new ResampleWorkspace();
  env.AddCleanupHook([workspace] { delete workspace; });
  exports.Set("kernelsResample", Napi::Function::New(env, Resample, "kernelsResample", workspace));
}

}  // namespace iro::napi
