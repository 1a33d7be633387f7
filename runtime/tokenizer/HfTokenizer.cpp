//===- HfTokenizer.cpp - a Hugging Face tokenizer.json tokenizer ---------===//

#include "runtime/tokenizer/HfTokenizer.h"

#include "runtime/src/Status.h"
#include "runtime/tokenizer/Regex.h"
#include "runtime/tokenizer/Unicode.h"

#include <nlohmann/json.hpp>

namespace anvil::tokenizer {

using Json = nlohmann::json;
using runtime::makeStatus;

namespace {

char32_t lastChar(std::string_view text) {
  size_t p = text.size() - 1;
  while (p > 0 && (static_cast<unsigned char>(text[p]) & 0xC0) == 0x80)
    --p;
  size_t n;
  return decodeAt(text, p, n);
}

bool isWordCharacter(char32_t c) { return isAlphanumeric(c) || c == '_'; }

} // namespace

// tokenizers' AddedVocabulary::find_matches: leftmost-longest matches, with
// single_word, lstrip and rstrip applied to each.
void HfTokenizer::splitAdded(const ByteTrie &trie, std::string_view text,
                             size_t base, std::vector<Segment> &out) const {
  size_t startOffset = 0, pos = 0;
  while (pos < text.size() && !trie.empty()) {
    int64_t index = -1;
    size_t length = 0, matchStart = pos;
    for (; matchStart < text.size() && length == 0; ++matchStart)
      trie.prefixes(text.substr(matchStart), [&](size_t n, int64_t value) {
        length = n;
        index = value;
      });
    --matchStart;
    if (length == 0)
      break;
    size_t start = matchStart, stop = matchStart + length;
    pos = stop;
    const AddedToken &token = added[index];
    if (start < startOffset)
      continue; // Inside the spaces an rstrip took.
    if (token.singleWord) {
      bool startSpace =
          start == 0 || !isWordCharacter(lastChar(text.substr(0, start)));
      size_t n;
      bool stopSpace =
          stop == text.size() || !isWordCharacter(decodeAt(text, stop, n));
      if (!startSpace || !stopSpace)
        continue;
    }
    if (token.lstrip) {
      size_t newStart = start;
      while (newStart > startOffset) {
        size_t p = newStart - 1;
        while (p > 0 && (static_cast<unsigned char>(text[p]) & 0xC0) == 0x80)
          --p;
        size_t n;
        if (!isWhitespace(decodeAt(text, p, n)))
          break;
        newStart = p;
      }
      start = newStart;
    }
    if (token.rstrip) {
      size_t n;
      while (stop < text.size() && isWhitespace(decodeAt(text, stop, n)))
        stop += n;
    }
    if (startOffset < start)
      out.push_back({std::string(text.substr(startOffset, start - startOffset)),
                     -1, base + startOffset});
    out.push_back({token.content, token.id, base + start});
    startOffset = stop;
  }
  if (startOffset < text.size())
    out.push_back(
        {std::string(text.substr(startOffset)), -1, base + startOffset});
}

bool HfTokenizer::parse(const Json &json, std::string &error) {
  if (!json.is_object()) {
    error = "tokenizer.json must be an object";
    return false;
  }
  auto component = [&](const char *key, auto &slot, auto parser) {
    auto it = json.find(key);
    if (it == json.end() || it->is_null())
      return true;
    slot = parser(*it, error);
    return slot != nullptr;
  };
  auto modelJson = json.find("model");
  if (modelJson == json.end()) {
    error = "tokenizer.json has no model";
    return false;
  }
  model = HfModel::parse(*modelJson, error);
  if (!model || !component("normalizer", normalizer, Normalizer::parse) ||
      !component("pre_tokenizer", preTokenizer, PreTokenizer::parse) ||
      !component("post_processor", postProcessor, PostProcessor::parse) ||
      !component("decoder", decoder, Decoder::parse))
    return false;

  // Ids index tables: a hostile file with one huge id must not make them
  // huge. Real vocabularies are dense.
  size_t count = model->vocab().size();
  auto list = json.find("added_tokens");
  if (list != json.end() && list->is_array())
    count += list->size();
  auto dense = [&](int64_t id) {
    return static_cast<uint64_t>(id) < 2 * count + 65536;
  };
  for (const auto &entry : model->vocab())
    if (!dense(entry.second)) {
      error = "model.vocab: id " + std::to_string(entry.second) +
              " is far past the vocabulary's size";
      return false;
    }
  auto setToken = [&](int64_t id, const std::string &token) {
    if (static_cast<size_t>(id) >= idToToken.size()) {
      idToToken.resize(id + 1);
      hasToken.resize(id + 1);
      special.resize(id + 1);
    }
    idToToken[id] = token;
    hasToken[id] = true;
  };
  for (const auto &[token, id] : model->vocab())
    setToken(id, token);

  if (list != json.end() && !list->is_null()) {
    if (!list->is_array()) {
      error = "added_tokens must be a list";
      return false;
    }
    for (const Json &item : *list) {
      auto content = item.is_object() ? item.find("content") : item.end();
      auto id = item.is_object() ? item.find("id") : item.end();
      if (content == item.end() || !content->is_string() || id == item.end() ||
          !id->is_number_unsigned() || id->get<uint64_t>() >= (1u << 24) ||
          !dense(id->get<int64_t>())) {
        error = "added_tokens: each needs a string content and an id in "
                "[0, 2^24), not far past the vocabulary's size";
        return false;
      }
      auto flag = [&](const char *key, bool fallback) {
        auto it = item.find(key);
        return it != item.end() && it->is_boolean() ? it->get<bool>()
                                                    : fallback;
      };
      AddedToken token{content->get<std::string>(),
                       id->get<int64_t>(),
                       flag("special", false),
                       flag("lstrip", false),
                       flag("rstrip", false),
                       flag("single_word", false),
                       false};
      token.normalized = flag("normalized", !token.special);
      if (token.content.empty() || !isValidUtf8(token.content)) {
        error = "added_tokens: a token is empty or not UTF-8";
        return false;
      }
      auto index = static_cast<int32_t>(added.size());
      if (token.normalized)
        normalizedTrie.insert(normalizer ? normalizer->apply(token.content)
                                         : token.content,
                              index);
      else
        rawTrie.insert(token.content, index);
      setToken(token.id, token.content);
      special[token.id] = special[token.id] || token.special;
      addedIds.emplace(token.content, token.id);
      added.push_back(std::move(token));
    }
  }
  return true;
}

anvil_status HfTokenizer::encode(std::string_view text, bool addSpecialTokens,
                                 std::vector<int64_t> &ids) const {
  return runtime::guarded([&]() -> anvil_status {
    try {
      return encodeUnguarded(text, addSpecialTokens, ids);
    } catch (const RegexTooExpensive &e) {
      ids.clear();
      return makeStatus(ANVIL_INVALID_ARGUMENT,
                        std::string("tokenizer: ") + e.what());
    }
  });
}

anvil_status HfTokenizer::encodeUnguarded(std::string_view text,
                                          bool addSpecialTokens,
                                          std::vector<int64_t> &ids) const {
  {
    ids.clear();
    if (!isValidUtf8(text))
      return makeStatus(ANVIL_INVALID_ARGUMENT,
                        "tokenizer: the text is not valid UTF-8");
    std::vector<Segment> raw, normalized;
    splitAdded(rawTrie, text, 0, raw);
    std::string error;
    std::vector<Split> splits;
    for (const Segment &segment : raw) {
      if (segment.id >= 0) {
        ids.push_back(segment.id);
        continue;
      }
      normalized.clear();
      splitAdded(normalizedTrie,
                 normalizer ? normalizer->apply(segment.text) : segment.text,
                 segment.begin, normalized);
      for (const Segment &piece : normalized) {
        if (piece.id >= 0) {
          ids.push_back(piece.id);
          continue;
        }
        splits.assign(1, Split{piece.text, piece.begin == 0});
        if (preTokenizer)
          preTokenizer->apply(splits);
        for (const Split &split : splits)
          if (!model->tokenize(split.text, ids, error))
            return makeStatus(ANVIL_INVALID_ARGUMENT, "tokenizer: " + error);
      }
    }
    if (addSpecialTokens && postProcessor)
      postProcessor->addSpecialTokens(ids);
    return nullptr;
  }
}

std::string HfTokenizer::decode(const std::vector<int64_t> &ids,
                                bool skipSpecialTokens) const {
  std::vector<std::string> tokens;
  for (int64_t id : ids) {
    if (id < 0 || id >= vocabSize() || !hasToken[id] ||
        (skipSpecialTokens && special[id]))
      continue;
    tokens.push_back(idToToken[id]);
  }
  if (decoder)
    decoder->decodeChain(tokens);
  std::string text;
  for (size_t i = 0; i < tokens.size(); ++i) {
    if (i > 0 && !decoder)
      text += ' ';
    text += tokens[i];
  }
  return text;
}

int64_t HfTokenizer::tokenToId(std::string_view token) const {
  std::string key(token);
  auto it = addedIds.find(key);
  if (it != addedIds.end())
    return it->second;
  auto vocab = model->vocab().find(key);
  return vocab == model->vocab().end() ? -1 : vocab->second;
}

bool HfTokenizer::isSpecial(int64_t id) const {
  return id >= 0 && id < vocabSize() && special[id];
}

} // namespace anvil::tokenizer
