// A deterministic byte-pair-style piece learner for SentencePiece-style (`llama`) vocabularies.
//
// Text is seen as llama.cpp's tokenizer sees it: a space is prepended (add_space_prefix) and
// every space becomes U+2581. It is cut into chunks at each U+2581 and where the character class
// changes (letters/digits vs punctuation vs other), the U+2581 staying with the chunk it starts.
// Starting from single characters, the most frequent adjacent pair inside chunks is merged,
// again and again (ties: the lexicographically smallest pair). The result: merged pieces in merge
// order with scores -1, -2, ... (llama.cpp merges the highest score first, which replays the
// merges in order), then the single characters seen at least `min_char_count` times. Characters
// not kept fall back to byte tokens.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace iro::forge {

struct PieceLearnerOptions {
  int32_t max_pieces = 1000;    // merged pieces + characters (the byte/control tokens come on top)
  int32_t min_char_count = 2;   // rarer characters are left to byte fallback
  int32_t min_pair_count = 2;   // stop merging when the best pair is rarer than this
  int32_t max_piece_chars = 16; // longest merged piece, in characters
};

struct LearnedPieces {
  std::vector<std::string> pieces;  // U+2581 for spaces
  std::vector<float> scores;
  int32_t n_merges = 0;
  int32_t n_chars = 0;
};

// Throws INVALID_ARGUMENT for an empty corpus, invalid UTF-8 (naming the document and byte
// offset) or a document containing U+2581 itself (it could not round-trip).
void validate_corpus(const std::vector<std::string>& documents);

LearnedPieces learn_pieces(const std::vector<std::string>& documents, const PieceLearnerOptions& options);

}  // namespace iro::forge
