#include "native/forge/piece_learner.h"

#include <algorithm>
#include <cctype>
#include <tuple>
#include <map>
#include <unordered_map>

#include "native/common/error.h"
#include "native/forge/spm_vocab.h"

namespace iro::forge {
namespace {

enum class CharClass { kWord, kPunct, kSpace, kOther };

CharClass classify(const std::string& ch) {
  const unsigned char c = static_cast<unsigned char>(ch[0]);
  if (ch == kSpaceMarker) return CharClass::kSpace;
  if (c >= 0x80 || std::isalnum(c)) return CharClass::kWord;  // non-ASCII letters count as word characters
  if (std::ispunct(c)) return CharClass::kPunct;
  return CharClass::kOther;  // control characters such as \n and \t
}

// The chunks of one document, as llama.cpp's tokenizer will see the text.
void add_chunks(const std::string& doc, std::map<std::string, int64_t>& chunk_counts) {
  std::vector<std::string> chars = utf8_chars(" " + doc);
  for (auto& c : chars) if (c == " ") c = kSpaceMarker;
  std::string chunk;
  CharClass chunk_class = CharClass::kOther;
  bool chunk_only_marker = false;
  auto flush = [&]() {
    if (!chunk.empty()) ++chunk_counts[chunk];
    chunk.clear();
  };
  for (const auto& c : chars) {
    const CharClass cls = classify(c);
    if (cls == CharClass::kSpace) {
      flush();
      chunk = c;
      chunk_only_marker = true;
      continue;
    }
    if (chunk_only_marker) {  // the marker joins the chunk it starts
      chunk += c;
      chunk_class = cls;
      chunk_only_marker = false;
      continue;
    }
    if (chunk.empty() || cls != chunk_class || cls == CharClass::kOther) {
      flush();
      chunk_class = cls;
    }
    chunk += c;
  }
  flush();
}

}  // namespace

void validate_corpus(const std::vector<std::string>& documents) {
  IRO_REQUIRE_ARG(!documents.empty(), "the corpus is empty: give at least one non-empty document");
  bool any = false;
  for (size_t i = 0; i < documents.size(); ++i) {
    size_t bad = 0;
    if (!is_valid_utf8(documents[i], &bad)) {
      fail(codes::kInvalidArgument, "corpus document " + std::to_string(i) + " is not valid UTF-8 (byte offset " +
                                        std::to_string(bad) + "); re-encode the corpus as UTF-8");
    }
    if (documents[i].find(kSpaceMarker) != std::string::npos) {
      fail(codes::kInvalidArgument, "corpus document " + std::to_string(i) +
                                        " contains U+2581, which the llama tokenizer reserves for spaces; remove it");
    }
    any = any || !documents[i].empty();
  }
  IRO_REQUIRE_ARG(any, "the corpus is empty: every document is an empty string");
}

LearnedPieces learn_pieces(const std::vector<std::string>& documents, const PieceLearnerOptions& o) {
  IRO_REQUIRE_ARG(o.max_pieces >= 1 && o.max_pieces <= 1000000, "maxPieces must be between 1 and 1000000");
  IRO_REQUIRE_ARG(o.min_char_count >= 1 && o.min_pair_count >= 1 && o.max_piece_chars >= 2, "piece learner counts must be positive");
  validate_corpus(documents);

  std::map<std::string, int64_t> chunk_counts;  // ordered: deterministic
  for (const auto& d : documents) if (!d.empty()) add_chunks(d, chunk_counts);

  // Symbols: id -> text; characters first.
  std::vector<std::string> sym_text;
  std::vector<int32_t> sym_chars;
  std::unordered_map<std::string, int32_t> sym_id;
  std::map<std::string, int64_t> char_counts;
  for (const auto& [chunk, n] : chunk_counts) for (const auto& c : utf8_chars(chunk)) char_counts[c] += n;
  std::vector<std::pair<int64_t, std::string>> kept_chars;
  for (const auto& [c, n] : char_counts) if (n >= o.min_char_count) kept_chars.emplace_back(n, c);
  std::sort(kept_chars.begin(), kept_chars.end(), [](const auto& a, const auto& b) {
    return a.first != b.first ? a.first > b.first : a.second < b.second;
  });
  if (static_cast<int32_t>(kept_chars.size()) > o.max_pieces) kept_chars.resize(static_cast<size_t>(o.max_pieces));
  for (const auto& kc : kept_chars) {
    sym_id.emplace(kc.second, static_cast<int32_t>(sym_text.size()));
    sym_text.push_back(kc.second);
    sym_chars.push_back(1);
  }

  // Words as symbol sequences; -1 marks a character left to byte fallback (never merged).
  struct Word { std::vector<int32_t> syms; int64_t count; };
  std::vector<Word> words;
  for (const auto& [chunk, n] : chunk_counts) {
    Word w{{}, n};
    for (const auto& c : utf8_chars(chunk)) {
      auto it = sym_id.find(c);
      w.syms.push_back(it == sym_id.end() ? -1 : it->second);
    }
    if (w.syms.size() >= 2) words.push_back(std::move(w));
  }

  LearnedPieces out;
  std::vector<int32_t> merged_order;
  const int32_t budget = o.max_pieces - static_cast<int32_t>(kept_chars.size());
  while (static_cast<int32_t>(merged_order.size()) < budget) {
    std::map<std::pair<int32_t, int32_t>, int64_t> pairs;
    for (const auto& w : words) {
      for (size_t i = 0; i + 1 < w.syms.size(); ++i) {
        const int32_t a = w.syms[i], b = w.syms[i + 1];
        if (a < 0 || b < 0 || sym_chars[a] + sym_chars[b] > o.max_piece_chars) continue;
        pairs[{a, b}] += w.count;
      }
    }
    const std::pair<int32_t, int32_t>* best = nullptr;
    int64_t best_n = 0;
    for (const auto& [p, n] : pairs) {
      if (n > best_n || (n == best_n && best &&
                         std::tie(sym_text[p.first], sym_text[p.second]) < std::tie(sym_text[best->first], sym_text[best->second]))) {
        best = &p;
        best_n = n;
      }
    }
    if (!best || best_n < o.min_pair_count) break;
    const int32_t a = best->first, b = best->second;
    const std::string text = sym_text[a] + sym_text[b];
    int32_t id;
    auto it = sym_id.find(text);
    if (it != sym_id.end()) {
      id = it->second;  // the same text reached by another pair: reuse it, no new piece
    } else {
      id = static_cast<int32_t>(sym_text.size());
      sym_id.emplace(text, id);
      sym_text.push_back(text);
      sym_chars.push_back(sym_chars[a] + sym_chars[b]);
      merged_order.push_back(id);
    }
    for (auto& w : words) {
      std::vector<int32_t> next;
      next.reserve(w.syms.size());
      for (size_t i = 0; i < w.syms.size(); ++i) {
        if (i + 1 < w.syms.size() && w.syms[i] == a && w.syms[i + 1] == b) {
          next.push_back(id);
          ++i;
        } else {
          next.push_back(w.syms[i]);
        }
      }
      w.syms.swap(next);
    }
    words.erase(std::remove_if(words.begin(), words.end(), [](const Word& w) { return w.syms.size() < 2; }), words.end());
  }

  float score = -1.0f;
  for (int32_t id : merged_order) {
    out.pieces.push_back(sym_text[id]);
    out.scores.push_back(score);
    score -= 1.0f;
  }
  for (const auto& kc : kept_chars) {
    out.pieces.push_back(kc.second);
    out.scores.push_back(score);
    score -= 1.0f;
  }
  out.n_merges = static_cast<int32_t>(merged_order.size());
  out.n_chars = static_cast<int32_t>(kept_chars.size());
  return out;
}

}  // namespace iro::forge
