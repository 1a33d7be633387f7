//===- SentencePieceCharsMap.h - check a model's charsmaps -------*- C++
//-*-===//
//
// A SentencePiece model carries its normalization rules as a "precompiled
// charsmap" (NormalizerSpec.precompiled_charsmap, and the same for the
// denormalizer): a Darts-clone double-array trie over UTF-8 bytes whose
// leaves index NUL-terminated replacement strings. libsentencepiece walks
// that trie without bounds checks (Normalizer::NormalizePrefix, through
// Darts::DoubleArray::commonPrefixSearch), so a hostile .model file makes
// it read outside the blob: a crash, or text from arbitrary memory. These
// checks run before such a model is used.
//
//===----------------------------------------------------------------------===//

#ifndef ANVIL_RUNTIME_TOKENIZER_SENTENCEPIECECHARSMAP_H
#define ANVIL_RUNTIME_TOKENIZER_SENTENCEPIECECHARSMAP_H

#include <string>
#include <string_view>

namespace anvil::tokenizer {

/// Checks one precompiled charsmap blob, laid out as sentencepiece's
/// normalizer.cc decodes it: a little-endian uint32 trie size in bytes,
/// that many bytes of 32-bit Darts-clone units, then the replacement
/// strings. Every trie position any input could reach (from unit 0, over
/// every byte value at every step) must lie inside the trie, and every
/// leaf's value must index a NUL-terminated string inside the replacement
/// bytes. An empty blob (no rules) is fine. Returns "" when the walk is
/// safe, else why not. Costs at most 256 unit reads per trie unit.
std::string checkPrecompiledCharsMap(std::string_view blob);

/// What checkSentencePieceCharsMaps found.
enum class CharsMapVerdict {
  Safe,        ///< every charsmap (or none) is safe to walk
  NotProtobuf, ///< the bytes are not a protobuf message at all
  Unsafe,      ///< a charsmap would send libsentencepiece out of bounds
};

/// Checks every precompiled charsmap in a serialized SentencePiece
/// ModelProto (fields 3, normalizer_spec, and 5, denormalizer_spec; field
/// 2 of each, every occurrence, as protobuf's parser keeps the last),
/// reading the protobuf wire format itself (Debian ships no
/// sentencepiece_model.pb.h). `why` says what is wrong unless Safe.
CharsMapVerdict checkSentencePieceCharsMaps(std::string_view modelProto,
                                            std::string &why);

} // namespace anvil::tokenizer

#endif // ANVIL_RUNTIME_TOKENIZER_SENTENCEPIECECHARSMAP_H
