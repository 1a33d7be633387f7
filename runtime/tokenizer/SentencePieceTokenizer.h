//===- SentencePieceTokenizer.h - SentencePiece .model files ----*- C++ -*-===//

#ifndef ANVIL_RUNTIME_TOKENIZER_SENTENCEPIECETOKENIZER_H
#define ANVIL_RUNTIME_TOKENIZER_SENTENCEPIECETOKENIZER_H

#include "runtime/tokenizer/Tokenizer.h"

namespace anvil::tokenizer {

/// Loads serialized SentencePiece ModelProto `bytes`.
anvil_status loadSentencePiece(std::string_view bytes,
                               std::unique_ptr<Tokenizer> &out);

} // namespace anvil::tokenizer

#endif // ANVIL_RUNTIME_TOKENIZER_SENTENCEPIECETOKENIZER_H
