// Errors raised by the native core. Each carries a stable code that reaches JS as IroError.code;
// the bindings catch them at the N-API boundary (no exception crosses it).
#pragma once
#include <stdexcept>
#include <string>

namespace iro {

class Error : public std::runtime_error {
 public:
  Error(std::string code, const std::string& message) : std::runtime_error(message), code_(std::move(code)) {}
  const std::string& code() const noexcept { return code_; }

 private:
  std::string code_;
};

// Stable codes (mirrored in lib/errors.ts).
namespace codes {
inline constexpr const char* kModelNotFound = "MODEL_NOT_FOUND";
inline constexpr const char* kInvalidGguf = "INVALID_GGUF";
inline constexpr const char* kUnsupportedModel = "UNSUPPORTED_MODEL";
inline constexpr const char* kVocabMismatch = "VOCAB_MISMATCH";
inline constexpr const char* kContextOverflow = "CONTEXT_OVERFLOW";
inline constexpr const char* kTooManySequences = "TOO_MANY_SEQUENCES";
inline constexpr const char* kInvalidArgument = "INVALID_ARGUMENT";
inline constexpr const char* kAborted = "ABORTED";
inline constexpr const char* kDisposed = "DISPOSED";
inline constexpr const char* kIo = "IO_ERROR";
inline constexpr const char* kCuda = "CUDA_ERROR";
inline constexpr const char* kInternal = "INTERNAL";
}  // namespace codes

[[noreturn]] inline void fail(const char* code, const std::string& message) { throw Error(code, message); }


}  // namespace iro

// Argument check: throws INVALID_ARGUMENT with the message when `ok` is false. A macro so that the
// message (usually built from strings and numbers) is only evaluated on failure: kernels check
// their arguments on every call, and building the messages eagerly cost more than a small kernel.
#define IRO_REQUIRE_ARG(ok, ...)                                                  \
  do {                                                                            \
    if (!(ok)) ::iro::fail(::iro::codes::kInvalidArgument, __VA_ARGS__);          \
  } while (0)
