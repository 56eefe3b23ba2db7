// N-API surface of the forge: random-init model writer, model inspection, llama.cpp tokenizer
// round trips and plain sampling. Training and vocabulary learning live in forge_*_binding.cpp.
#include "bindings/forge_args.h"
#include "bindings/modules.h"
#include "bindings/napi_util.h"
#include "native/forge/gguf_llama_writer.h"
#include "native/forge/llama_model_file.h"
#include "native/forge/output_file.h"
#include "native/forge/sample_text.h"

namespace iro::napi {

void register_forge_train(Napi::Env env, Napi::Object exports);  // forge_train_binding.cpp

namespace {

// forgeRandomModel(path, { pieces?, scores?, nEmbd, nLayer, nHead, nHeadKv, nFf, nCtxTrain, seed, initStd?, name? })
Napi::Value ForgeRandomModel(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guard(env, [&]() -> Napi::Value {
    std::string path = string_arg(info, 0, "path");
    Napi::Object o = object_arg(info, 1, "options");
    forge::ModelDims dims = forge_dims(o);
    std::vector<std::string> pieces = string_array_field(o, "pieces");
    std::vector<float> scores = float_array_field(o, "scores");
    const uint64_t seed = seed_field(o, "seed");
    const float init_std = static_cast<float>(number_field(o, "initStd", 0.02));
    const float embd_std = static_cast<float>(number_field(o, "embdInitStd", 1.0));
    std::string name = optional_string_field(o, "name", "iro-forge");
    // Everything is validated here, before the worker is queued.
    forge::validate_dims(dims);
    auto vocab = std::make_shared<forge::SpmVocab>(forge::build_spm_vocab(pieces, scores));
    forge::check_output_path(path);
    return PromiseWorker<forge::WrittenModel>::Start(
        env, [=]() { return forge::write_random_llama(path, dims, *vocab, seed, name, init_std, embd_std); },
        [](Napi::Env env, forge::WrittenModel& w) -> Napi::Value {
          Napi::Object r = Napi::Object::New(env);
          r.Set("nVocab", w.n_vocab);
          r.Set("nParams", static_cast<double>(w.n_params));
          r.Set("fileBytes", static_cast<double>(w.file_bytes));
          return r;
        },
        "iro-forge-random-model");
  });
}

Napi::Value ForgeInspectModel(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guard(env, [&]() -> Napi::Value {
    std::string path = string_arg(info, 0, "path");
    return PromiseWorker<forge::ModelSummary>::Start(
        env, [=]() { return forge::inspect_model(path); },
        [](Napi::Env env, forge::ModelSummary& s) -> Napi::Value {
          Napi::Object r = Napi::Object::New(env);
          r.Set("nVocab", s.n_vocab);
          r.Set("nParams", static_cast<double>(s.n_params));
          r.Set("nEmbd", s.n_embd);
          r.Set("nLayer", s.n_layer);
          r.Set("nHead", s.n_head);
          r.Set("nHeadKv", s.n_head_kv);
          r.Set("nCtxTrain", s.n_ctx_train);
          r.Set("bos", s.bos);
          r.Set("eos", s.eos);
          r.Set("addBos", s.add_bos);
          r.Set("description", s.description);
          r.Set("vocabType", s.vocab_type);
          r.Set("sizeBytes", static_cast<double>(s.size_bytes));
          return r;
        },
        "iro-forge-inspect");
  });
}

// forgeTokenize(path, texts: string[], addSpecial: boolean) -> Promise<Int32Array[]>
Napi::Value ForgeTokenize(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guard(env, [&]() -> Napi::Value {
    std::string path = string_arg(info, 0, "path");
    std::vector<std::string> texts = string_array(info[1], "texts");
    const bool add_special = info.Length() > 2 && info[2].ToBoolean().Value();
    using Lists = std::vector<std::vector<int32_t>>;
    return PromiseWorker<Lists>::Start(
        env, [=]() { return forge::tokenize_texts(path, texts, add_special); },
        [](Napi::Env env, Lists& lists) -> Napi::Value { return int_lists_to_js(env, lists); }, "iro-forge-tokenize");
  });
}

// forgeDetokenize(path, lists: Int32Array[], removeSpecial: boolean) -> Promise<string[]>
Napi::Value ForgeDetokenize(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guard(env, [&]() -> Napi::Value {
    std::string path = string_arg(info, 0, "path");
    IRO_EXPECT(info.Length() > 1 && info[1].IsArray(), "lists must be an array of Int32Array");
    Napi::Array arr = info[1].As<Napi::Array>();
    const uint32_t n = arr.Length();
    std::vector<std::vector<int32_t>> lists;
    for (uint32_t i = 0; i < n; ++i) lists.push_back(typed_vector<int32_t>(arr.Get(i), "lists[i]"));
    const bool remove_special = info.Length() > 2 && info[2].ToBoolean().Value();
    using Texts = std::vector<std::string>;
    return PromiseWorker<Texts>::Start(
        env, [=]() { return forge::detokenize_lists(path, lists, remove_special); },
        [](Napi::Env env, Texts& texts) -> Napi::Value {
          Napi::Array r = Napi::Array::New(env, texts.size());
          for (size_t i = 0; i < texts.size(); ++i) r.Set(i, texts[i]);
          return r;
        },
        "iro-forge-detokenize");
  });
}

// forgeSample(path, prompts, { maxTokens, temperature, topK, topP, minP, seed, threads })
Napi::Value ForgeSample(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guard(env, [&]() -> Napi::Value {
    std::string path = string_arg(info, 0, "path");
    std::vector<std::string> prompts = string_array(info[1], "prompts");
    Napi::Object o = object_arg(info, 2, "options");
    forge::SampleOptions so;
    so.max_tokens = int_field(o, "maxTokens", 64);
    so.sampling.temperature = static_cast<float>(number_field(o, "temperature", 1.0));
    so.sampling.top_k = int_field(o, "topK", 0);
    so.sampling.top_p = static_cast<float>(number_field(o, "topP", 1.0));
    so.sampling.min_p = static_cast<float>(number_field(o, "minP", 0.0));
    so.seed = seed_field(o, "seed");
    so.threads = int_field(o, "threads", 1);
    validate_sampling(so.sampling);
    using Results = std::vector<forge::SampleResult>;
    return PromiseWorker<Results>::Start(
        env, [=]() { return forge::sample_texts(path, prompts, so); },
        [](Napi::Env env, Results& rs) -> Napi::Value {
          Napi::Array r = Napi::Array::New(env, rs.size());
          for (size_t i = 0; i < rs.size(); ++i) {
            Napi::Object s = Napi::Object::New(env);
            s.Set("text", rs[i].text);
            s.Set("tokens", to_typed_array(env, rs[i].tokens));
            s.Set("ended", rs[i].ended);
            r.Set(i, s);
          }
          return r;
        },
        "iro-forge-sample");
  });
}

}  // namespace

void register_forge(Napi::Env env, Napi::Object exports) {
  export_functions(env, exports, {
      {"forgeRandomModel", ForgeRandomModel},
      {"forgeInspectModel", ForgeInspectModel},
      {"forgeTokenize", ForgeTokenize},
      {"forgeDetokenize", ForgeDetokenize},
      {"forgeSample", ForgeSample},
  });
  register_forge_train(env, exports);
}

}  // namespace iro::napi
