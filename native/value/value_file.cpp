#include "native/value/value_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <string>

#include "ggml.h"
#include "gguf.h"
#include "native/common/error.h"
#include "native/common/unique_handle.h"

namespace iro::value {
namespace {

using GgufPtr = UniqueHandle<gguf_context, gguf_free>;
void close_file(FILE* f) { std::fclose(f); }  // a wrapper: std functions may not be template arguments
using FilePtr = UniqueHandle<FILE, close_file>;

std::string k(const char* suffix) { return std::string("iro.value.") + suffix; }

// ---- typed metadata readers: check the key's type before touching its value ----
class Meta {
 public:
  Meta(const gguf_context* ctx, const std::string& path) : ctx_(ctx), path_(path) {}

  [[noreturn]] void bad(const std::string& what) const {
    fail(codes::kInvalidGguf, "invalid value file " + path_ + ": " + what + " (re-create it with ValueFunction.train or save)");
  }
  int64_t find(const std::string& key, gguf_type type, bool required = true) const {
    const int64_t id = gguf_find_key(ctx_, key.c_str());
    if (id < 0) {
      if (required) bad("missing key " + key);
      return -1;
    }
    if (gguf_get_kv_type(ctx_, id) != type) bad("key " + key + " has type " + gguf_type_name(gguf_get_kv_type(ctx_, id)) + ", expected " + gguf_type_name(type));
    return id;
  }
  uint32_t u32(const std::string& key, uint32_t lo, uint32_t hi) const {
    const uint32_t v = gguf_get_val_u32(ctx_, find(key, GGUF_TYPE_UINT32));
    if (v < lo || v > hi) bad("key " + key + " = " + std::to_string(v) + " is outside [" + std::to_string(lo) + ", " + std::to_string(hi) + "]");
    return v;
  }
  uint64_t u64(const std::string& key) const { return gguf_get_val_u64(ctx_, find(key, GGUF_TYPE_UINT64)); }
  float f32(const std::string& key) const { return gguf_get_val_f32(ctx_, find(key, GGUF_TYPE_FLOAT32)); }
  std::string str(const std::string& key, bool required = true) const {
    const int64_t id = find(key, GGUF_TYPE_STRING, required);
    return id < 0 ? std::string() : std::string(gguf_get_val_str(ctx_, id));
  }

 private:
  const gguf_context* ctx_;
  std::string path_;
};

bool is_hex16(const std::string& s) {
  if (s.size() != 16) return false;
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

}  // namespace

void save_value_file(const ValueModel& m, const std::string& path) {
  validate_dims(m.dims, codes::kInvalidArgument, "value net");
  GgufPtr g(gguf_init_empty());
  gguf_set_val_str(g.get(), "general.architecture", kValueArchitecture);
  gguf_set_val_str(g.get(), "general.name", "iro value function");
  gguf_set_val_u32(g.get(), k("format_version").c_str(), kValueFileVersion);
  gguf_set_val_u32(g.get(), k("vocab.size").c_str(), static_cast<uint32_t>(m.meta.vocab_size));
  gguf_set_val_str(g.get(), k("vocab.fingerprint").c_str(), m.meta.vocab_fingerprint.c_str());
  gguf_set_val_u32(g.get(), k("featurizer.version").c_str(), kFeaturizerVersion);
  gguf_set_val_u32(g.get(), k("featurizer.seed").c_str(), m.featurizer.seed);
  gguf_set_val_u32(g.get(), k("featurizer.ngram_max").c_str(), static_cast<uint32_t>(m.featurizer.ngram_max));
  gguf_set_val_u32(g.get(), k("featurizer.prompt_window").c_str(), static_cast<uint32_t>(m.featurizer.prompt_window));
  gguf_set_val_u32(g.get(), k("featurizer.position_buckets").c_str(), static_cast<uint32_t>(m.featurizer.position_buckets));
  gguf_set_val_u32(g.get(), k("featurizer.pooling").c_str(), static_cast<uint32_t>(m.featurizer.pooling));
  gguf_set_val_u32(g.get(), k("n_buckets").c_str(), static_cast<uint32_t>(m.dims.n_buckets));
  gguf_set_val_u32(g.get(), k("embedding_width").c_str(), static_cast<uint32_t>(m.dims.d));
  gguf_set_val_u32(g.get(), k("hidden_width").c_str(), static_cast<uint32_t>(m.dims.hidden));
  gguf_set_val_u32(g.get(), k("dense_width").c_str(), static_cast<uint32_t>(m.dims.d_dense));
  gguf_set_val_f32(g.get(), k("beta").c_str(), m.meta.beta);
  gguf_set_val_u32(g.get(), k("iteration").c_str(), m.meta.iteration);
  const TrainStats& s = m.meta.stats;
  gguf_set_val_u32(g.get(), k("train.epochs").c_str(), s.epochs);
  gguf_set_val_u32(g.get(), k("train.best_epoch").c_str(), s.best_epoch);
  gguf_set_val_f32(g.get(), k("train.train_mse").c_str(), s.train_mse);
  gguf_set_val_f32(g.get(), k("train.heldout_mse").c_str(), s.val_mse);
  gguf_set_val_u32(g.get(), k("train.seed").c_str(), s.seed);
  gguf_set_val_u32(g.get(), k("train.prefix_stride").c_str(), s.prefix_stride);
  gguf_set_val_u64(g.get(), k("dataset.rows").c_str(), s.rows);
  gguf_set_val_u64(g.get(), k("dataset.states").c_str(), s.states);
  gguf_set_val_u64(g.get(), k("dataset.heldout_rows").c_str(), s.val_rows);
  gguf_set_val_str(g.get(), k("train.report").c_str(), m.meta.metrics_json.c_str());

  // Tensor descriptors only (no_alloc); their data points at our buffers.
  ggml_init_params ip{};
  ip.mem_size = 8 * ggml_tensor_overhead();
  ip.mem_buffer = nullptr;
  ip.no_alloc = true;
  UniqueHandle<ggml_context, ggml_free> gc(ggml_init(ip));
  if (!gc) fail(codes::kInternal, "cannot create a ggml context to describe the value tensors");
  auto add = [&](const char* name, const ParamVector& data, int64_t ne0, int64_t ne1) {
    ggml_tensor* t = ne1 > 0 ? ggml_new_tensor_2d(gc.get(), GGML_TYPE_F32, ne0, ne1) : ggml_new_tensor_1d(gc.get(), GGML_TYPE_F32, ne0);
    ggml_set_name(t, name);
    t->data = const_cast<float*>(data.data());
    gguf_add_tensor(g.get(), t);
  };
  const ParamVector b2{m.b2};
  add("value.embedding", m.E, m.dims.d, m.dims.n_buckets);
  if (m.dims.d_dense > 0) add("value.dense_proj", m.P, m.dims.d, m.dims.d_dense);
  add("value.b0", m.b0, m.dims.d, 0);
  add("value.w1", m.W1, m.dims.d, m.dims.hidden);
  add("value.b1", m.b1, m.dims.hidden, 0);
  add("value.w2", m.w2, m.dims.hidden, 0);
  add("value.b2", b2, 1, 0);

  const std::string tmp = path + ".tmp-" + std::to_string(getpid());
  FilePtr fp(std::fopen(tmp.c_str(), "wb"));
  if (!fp) fail(codes::kIo, "cannot write value file " + path + ": " + std::strerror(errno));
  bool ok = gguf_write_to_file_ptr(g.get(), fp.get(), false);
  ok = ok && std::fflush(fp.get()) == 0 && fsync(fileno(fp.get())) == 0;
  const int err = errno;
  ok = (std::fclose(fp.release()) == 0) && ok;
  if (!ok || std::rename(tmp.c_str(), path.c_str()) != 0) {
    const int e2 = ok ? errno : err;
    std::remove(tmp.c_str());
    fail(codes::kIo, "cannot write value file " + path + ": " + std::strerror(e2));
  }
}

ValueModel load_value_file(const std::string& path) {
  struct stat st {};
  if (stat(path.c_str(), &st) != 0) fail(codes::kIo, "value file not found: " + path);
  if (!S_ISREG(st.st_mode)) fail(codes::kIo, "value file is not a regular file: " + path);
  const uint64_t file_size = static_cast<uint64_t>(st.st_size);

  gguf_init_params params{};
  params.no_alloc = true;
  params.ctx = nullptr;  // metadata only: no tensor memory is allocated here
  GgufPtr g(gguf_init_from_file(path.c_str(), params));
  if (!g) fail(codes::kInvalidGguf, "not a readable GGUF file: " + path + " (truncated or corrupt?)");
  const Meta meta(g.get(), path);

  if (meta.str("general.architecture") != kValueArchitecture) {
    meta.bad("general.architecture is \"" + meta.str("general.architecture") + "\", expected \"" + kValueArchitecture + "\" (is this a model file?)");
  }
  const uint32_t version = meta.u32(k("format_version"), 1, 0xffffffffu);
  if (version != kValueFileVersion) {
    fail(codes::kInvalidGguf, "value file " + path + " has format version " + std::to_string(version) +
                                  "; this iro-native reads version " + std::to_string(kValueFileVersion) + " (upgrade iro-native)");
  }
  if (meta.u32(k("featurizer.version"), 0, 0xffffffffu) != static_cast<uint32_t>(kFeaturizerVersion)) {
    meta.bad("unsupported featurizer version");
  }

  ValueModel m;
  m.meta.vocab_size = static_cast<int32_t>(meta.u32(k("vocab.size"), 1, 0x7fffffffu));
  m.meta.vocab_fingerprint = meta.str(k("vocab.fingerprint"));
  if (!is_hex16(m.meta.vocab_fingerprint)) meta.bad("vocab.fingerprint is not 16 hex digits");
  m.featurizer.seed = meta.u32(k("featurizer.seed"), 0, 0xffffffffu);
  m.featurizer.ngram_max = static_cast<int32_t>(meta.u32(k("featurizer.ngram_max"), 1, 3));
  m.featurizer.prompt_window = static_cast<int32_t>(meta.u32(k("featurizer.prompt_window"), 0, 64));
  m.featurizer.position_buckets = static_cast<int32_t>(meta.u32(k("featurizer.position_buckets"), 1, 64));
  m.featurizer.pooling = static_cast<int32_t>(meta.u32(k("featurizer.pooling"), 0, 2));
  m.dims.n_buckets = static_cast<int32_t>(meta.u32(k("n_buckets"), 1, ValueLimits::kMaxBuckets));
  m.dims.d = static_cast<int32_t>(meta.u32(k("embedding_width"), 1, ValueLimits::kMaxWidth));
  m.dims.hidden = static_cast<int32_t>(meta.u32(k("hidden_width"), 1, ValueLimits::kMaxHidden));
  m.dims.d_dense = static_cast<int32_t>(meta.u32(k("dense_width"), 0, ValueLimits::kMaxDense));
  validate_dims(m.dims, codes::kInvalidGguf, "invalid value file " + path);
  m.meta.beta = meta.f32(k("beta"));
  if (!std::isfinite(m.meta.beta) || m.meta.beta <= 0) meta.bad("beta must be a positive number");
  m.meta.iteration = meta.u32(k("iteration"), 0, 0xffffffffu);
  TrainStats& s = m.meta.stats;
  s.epochs = meta.u32(k("train.epochs"), 0, 0xffffffffu);
  s.best_epoch = meta.u32(k("train.best_epoch"), 0, 0xffffffffu);
  s.train_mse = meta.f32(k("train.train_mse"));
  s.val_mse = meta.f32(k("train.heldout_mse"));
  s.seed = meta.u32(k("train.seed"), 0, 0xffffffffu);
  s.prefix_stride = meta.u32(k("train.prefix_stride"), 1, 0xffffffffu);
  s.rows = meta.u64(k("dataset.rows"));
  s.states = meta.u64(k("dataset.states"));
  s.val_rows = meta.u64(k("dataset.heldout_rows"));
  m.meta.metrics_json = meta.str(k("train.report"), false);

  // Exact tensor set, F32, shapes from the dims, bytes inside the file.
  const auto& d = m.dims;
  struct Expect {
    const char* name;
    int64_t ne0, ne1;
    ParamVector* dst;
  };
  ParamVector b2(1);
  std::vector<Expect> want = {{"value.embedding", d.d, d.n_buckets, &m.E}, {"value.b0", d.d, 1, &m.b0},
                              {"value.w1", d.d, d.hidden, &m.W1},          {"value.b1", d.hidden, 1, &m.b1},
                              {"value.w2", d.hidden, 1, &m.w2},            {"value.b2", 1, 1, &b2}};
  if (d.d_dense > 0) want.push_back({"value.dense_proj", d.d, d.d_dense, &m.P});
  const int64_t n_tensors = gguf_get_n_tensors(g.get());
  if (n_tensors != static_cast<int64_t>(want.size())) {
    meta.bad("has " + std::to_string(n_tensors) + " tensors, expected " + std::to_string(want.size()));
  }
  const uint64_t data_off = gguf_get_data_offset(g.get());
  struct Slice {
    uint64_t offset, bytes;
  };
  std::vector<Slice> slices;
  for (const Expect& e : want) {
    const int64_t id = gguf_find_tensor(g.get(), e.name);
    if (id < 0) meta.bad(std::string("missing tensor ") + e.name);
    if (gguf_get_tensor_type(g.get(), id) != GGML_TYPE_F32) meta.bad(std::string("tensor ") + e.name + " is not F32");
    const int64_t* ne = gguf_get_tensor_ne(g.get(), id);
    if (ne[0] != e.ne0 || ne[1] != e.ne1 || ne[2] != 1 || ne[3] != 1) {
      meta.bad(std::string("tensor ") + e.name + " has shape [" + std::to_string(ne[0]) + ", " + std::to_string(ne[1]) + ", " +
               std::to_string(ne[2]) + ", " + std::to_string(ne[3]) + "], expected [" + std::to_string(e.ne0) + ", " +
               std::to_string(e.ne1) + "]");
    }
    const uint64_t bytes = static_cast<uint64_t>(e.ne0) * static_cast<uint64_t>(e.ne1) * sizeof(float);
    const uint64_t off = gguf_get_tensor_offset(g.get(), id);
    if (gguf_get_tensor_size(g.get(), id) != bytes) meta.bad(std::string("tensor ") + e.name + " has an unexpected byte size");
    if (data_off > file_size || off > file_size - data_off || bytes > file_size - data_off - off) {
      meta.bad(std::string("tensor ") + e.name + " lies beyond the end of the file (truncated?)");
    }
    slices.push_back({data_off + off, bytes});
  }
  // Only now allocate, then read each tensor.
  FilePtr fp(std::fopen(path.c_str(), "rb"));
  if (!fp) fail(codes::kIo, "cannot open value file " + path + ": " + std::strerror(errno));
  for (size_t i = 0; i < want.size(); ++i) {
    ParamVector& dst = *want[i].dst;
    dst.resize(static_cast<size_t>(slices[i].bytes / sizeof(float)));
    if (fseeko(fp.get(), static_cast<off_t>(slices[i].offset), SEEK_SET) != 0 ||
        std::fread(dst.data(), 1, slices[i].bytes, fp.get()) != slices[i].bytes) {
      meta.bad(std::string("cannot read tensor ") + want[i].name + " (truncated?)");
    }
  }
  m.b2 = b2[0];
  if (d.d_dense == 0) m.P.clear();
  if (!m.all_finite()) meta.bad("the weights contain NaN or infinite values");
  return m;
}

}  // namespace iro::value
