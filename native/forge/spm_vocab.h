// A SentencePiece-style vocabulary in the layout llama.cpp's `llama` tokenizer expects:
// <unk>, <s>, </s>, the 256 byte tokens <0x00>..<0xFF> (byte fallback), then the learned pieces.
// Pieces use U+2581 ("▁") for a space, as SentencePiece does; llama.cpp merges adjacent symbols
// into the highest-scoring piece first, so a piece's score orders the merges.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace iro::forge {

// Token types as llama.cpp reads them from tokenizer.ggml.token_type.
enum class TokenType : int32_t { kNormal = 1, kUnknown = 2, kControl = 3, kUserDefined = 4, kUnused = 5, kByte = 6 };

inline constexpr const char* kSpaceMarker = "\xE2\x96\x81";  // U+2581
inline constexpr int32_t kUnkId = 0, kBosId = 1, kEosId = 2, kFirstByteId = 3, kFirstPieceId = 3 + 256;

struct SpmVocab {
  std::vector<std::string> tokens;
  std::vector<float> scores;
  std::vector<int32_t> types;
  bool add_space_prefix = true;
  bool add_bos = true;
  bool add_eos = false;
  int32_t size() const { return static_cast<int32_t>(tokens.size()); }
};

// Spaces in pieces become U+2581. Throws INVALID_ARGUMENT for an empty piece, invalid UTF-8, a
// duplicate, or a piece that collides with a control/byte token name. `scores` may be empty, in
// which case earlier pieces get higher scores (-1, -2, ...).
SpmVocab build_spm_vocab(const std::vector<std::string>& pieces, const std::vector<float>& scores = {});

// True when `s` is well-formed UTF-8 (no overlong forms, no surrogates, <= U+10FFFF).
bool is_valid_utf8(const std::string& s, size_t* bad_offset = nullptr);

// Splits well-formed UTF-8 into code-point strings.
std::vector<std::string> utf8_chars(const std::string& s);

}  // namespace iro::forge
