//===- SentencePieceTokenizer.cpp - SentencePiece .model files -----------===//
//
// A SentencePiece model, run by Debian's libsentencepiece: encode as
// SentencePieceProcessor::Encode (with the model's BOS first when special
// tokens are asked for, as Llama's tokenizers), decode as its Decode, with
// control pieces (the special tokens: <s>, </s>) kept as text unless
// skipped; <unk> decodes as sentencepiece's " \u2047 ".
//
//===----------------------------------------------------------------------===//

#include "runtime/tokenizer/SentencePieceTokenizer.h"

#include "runtime/src/Status.h"
#include "runtime/tokenizer/SentencePieceCharsMap.h"
#include "runtime/tokenizer/Unicode.h"

#include <sentencepiece_processor.h>

namespace anvil::tokenizer {

using runtime::makeStatus;

namespace {

class SentencePieceTokenizer : public Tokenizer {
public:
  sentencepiece::SentencePieceProcessor processor;

  anvil_status encode(std::string_view text, bool addSpecialTokens,
                      std::vector<int64_t> &ids) const override {
    return runtime::guarded([&]() -> anvil_status {
      ids.clear();
      if (!isValidUtf8(text))
        return makeStatus(ANVIL_INVALID_ARGUMENT,
                          "tokenizer: the text is not valid UTF-8");
      std::vector<int> pieces;
      auto status = processor.Encode(text, &pieces);
      if (!status.ok())
        return makeStatus(ANVIL_INVALID_ARGUMENT,
                          "tokenizer: sentencepiece: " + status.ToString());
      if (addSpecialTokens && processor.bos_id() >= 0)
        ids.push_back(processor.bos_id());
      ids.insert(ids.end(), pieces.begin(), pieces.end());
      return nullptr;
    });
  }

  std::string decode(const std::vector<int64_t> &ids,
                     bool skipSpecialTokens) const override {
    std::string text;
    std::vector<int> run;
    auto flush = [&] {
      std::string piece;
      if (!run.empty() && processor.Decode(run, &piece).ok())
        text += piece;
      run.clear();
    };
    for (int64_t id : ids) {
      if (id < 0 || id >= vocabSize())
        continue;
      int i = static_cast<int>(id);
      if (processor.IsControl(i)) {
        flush();
        if (!skipSpecialTokens)
          text += processor.IdToPiece(i);
        continue;
      }
      run.push_back(i);
    }
    flush();
    return text;
  }

  int64_t vocabSize() const override { return processor.GetPieceSize(); }

  int64_t tokenToId(std::string_view token) const override {
    int id = processor.PieceToId(token);
    return id >= 0 && processor.IdToPiece(id) == token ? id : -1;
  }

  bool isSpecial(int64_t id) const override {
    return id >= 0 && id < vocabSize() &&
           processor.IsControl(static_cast<int>(id));
  }

  const char *kind() const override { return "sentencepiece"; }
};

} // namespace

anvil_status loadSentencePiece(std::string_view bytes,
                               std::unique_ptr<Tokenizer> &out) {
  // Before libsentencepiece sees the model: its loader already encodes
  // the model's self-test samples (if any) through the charsmaps.
  std::string why;
  switch (checkSentencePieceCharsMaps(bytes, why)) {
  case CharsMapVerdict::Safe:
    break;
  case CharsMapVerdict::NotProtobuf:
    return makeStatus(ANVIL_INVALID_ARGUMENT,
                      "tokenizer: not a tokenizer.json (JSON) nor a "
                      "SentencePiece model: " +
                          why);
  case CharsMapVerdict::Unsafe:
    return makeStatus(ANVIL_INVALID_ARGUMENT,
                      "tokenizer: the SentencePiece model's precompiled "
                      "charsmap is malformed (" +
                          why + ")");
  }
  auto tokenizer = std::make_unique<SentencePieceTokenizer>();
  auto status = tokenizer->processor.LoadFromSerializedProto(bytes);
  if (!status.ok())
    return makeStatus(ANVIL_INVALID_ARGUMENT,
                      "tokenizer: not a tokenizer.json (JSON) nor a "
                      "SentencePiece model: " +
                          status.ToString());
  out = std::move(tokenizer);
  return nullptr;
}

} // namespace anvil::tokenizer
