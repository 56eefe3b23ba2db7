#include "native/forge/spm_vocab.h"

#include <cstdio>
#include <unordered_set>

#include "native/common/error.h"

namespace iro::forge {

bool is_valid_utf8(const std::string& s, size_t* bad_offset) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const size_t n = s.size();
  size_t i = 0;
  while (i < n) {
    const unsigned char c = p[i];
    size_t len = 0;
    uint32_t cp = 0;
    if (c < 0x80) { ++i; continue; }
    if ((c & 0xE0) == 0xC0) { len = 2; cp = c & 0x1F; }
    else if ((c & 0xF0) == 0xE0) { len = 3; cp = c & 0x0F; }
    else if ((c & 0xF8) == 0xF0) { len = 4; cp = c & 0x07; }
    else { if (bad_offset) *bad_offset = i; return false; }
    if (i + len > n) { if (bad_offset) *bad_offset = i; return false; }
    for (size_t k = 1; k < len; ++k) {
      if ((p[i + k] & 0xC0) != 0x80) { if (bad_offset) *bad_offset = i; return false; }
      cp = (cp << 6) | (p[i + k] & 0x3F);
    }
    const bool overlong = (len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000);
    if (overlong || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) { if (bad_offset) *bad_offset = i; return false; }
    i += len;
  }
  return true;
}

std::vector<std::string> utf8_chars(const std::string& s) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < s.size()) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    const size_t len = c < 0x80 ? 1 : (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : 4;
    out.emplace_back(s.substr(i, len));
    i += len;
  }
  return out;
}

SpmVocab build_spm_vocab(const std::vector<std::string>& pieces, const std::vector<float>& scores) {
  IRO_REQUIRE_ARG(scores.empty() || scores.size() == pieces.size(), "piece scores must match the pieces one to one");
  SpmVocab v;
  auto add = [&v](std::string text, float score, TokenType type) {
    v.tokens.push_back(std::move(text));
    v.scores.push_back(score);
    v.types.push_back(static_cast<int32_t>(type));
  };
  add("<unk>", 0.0f, TokenType::kUnknown);
  add("<s>", 0.0f, TokenType::kControl);
  add("</s>", 0.0f, TokenType::kControl);
  for (int b = 0; b < 256; ++b) {
    char name[8];
    std::snprintf(name, sizeof name, "<0x%02X>", b);
    add(name, 0.0f, TokenType::kByte);
  }
  std::unordered_set<std::string> seen(v.tokens.begin(), v.tokens.end());
  for (size_t i = 0; i < pieces.size(); ++i) {
    const std::string& raw = pieces[i];
    IRO_REQUIRE_ARG(!raw.empty(), "vocabulary piece " + std::to_string(i) + " is empty");
    IRO_REQUIRE_ARG(is_valid_utf8(raw), "vocabulary piece " + std::to_string(i) + " is not valid UTF-8");
    std::string piece;
    for (char c : raw) {
      if (c == ' ') piece += kSpaceMarker;
      else piece += c;
    }
    IRO_REQUIRE_ARG(seen.insert(piece).second, "vocabulary piece \"" + raw + "\" appears twice or collides with a control/byte token");
    add(piece, scores.empty() ? -static_cast<float>(i + 1) : scores[i], TokenType::kNormal);
  }
  return v;
}

}  // namespace iro::forge
