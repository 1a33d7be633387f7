//===- HfModels.cpp - tokenizer.json models: BPE, WordPiece, WordLevel ---===//

#include "runtime/tokenizer/HfModels.h"

#include "runtime/tokenizer/ByteTrie.h"
#include "runtime/tokenizer/Unicode.h"

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <nlohmann/json.hpp>
#include <queue>

namespace anvil::tokenizer {

using Json = nlohmann::json;

namespace {

/// Ids must index a table: real vocabularies stay far below this.
constexpr int64_t maxTokenId = int64_t(1) << 24;

bool parseVocab(const Json &model, Vocab &vocab, std::string &error) {
  auto it = model.find("vocab");
  if (it == model.end() || !it->is_object()) {
    error = "model.vocab must be an object of token -> id";
    return false;
  }
  for (auto entry = it->begin(); entry != it->end(); ++entry) {
    if (!entry.value().is_number_unsigned() ||
        entry.value().get<uint64_t>() >= uint64_t(maxTokenId)) {
      error = "model.vocab: the id of '" + entry.key() +
              "' is not an integer in [0, 2^24)";
      return false;
    }
    vocab[entry.key()] = entry.value().get<int64_t>();
  }
  return true;
}

/// An optional string field: absent or null gives "".
bool optionalString(const Json &json, const char *key, std::string &out,
                    std::string &error) {
  out.clear();
  auto it = json.find(key);
  if (it == json.end() || it->is_null())
    return true;
  if (!it->is_string()) {
    error = std::string("model.") + key + " must be a string";
    return false;
  }
  out = it->get<std::string>();
  return true;
}

bool optionalBool(const Json &json, const char *key, bool fallback) {
  auto it = json.find(key);
  return it != json.end() && it->is_boolean() ? it->get<bool>() : fallback;
}

//===- BPE ---------------------------------------------------------------===//

class BpeModel : public HfModel {
public:
  bool parse(const Json &json, std::string &error);
  bool tokenize(std::string_view word, std::vector<int64_t> &ids,
                std::string &error) const override;

private:
  struct Merge {
    uint32_t rank;
    int64_t newId;
  };
  static uint64_t key(int64_t a, int64_t b) {
    return (uint64_t(a) << 32) | uint64_t(b);
  }
  bool mergeWord(std::string_view word, std::vector<int64_t> &ids,
                 std::string &error) const;

  std::unordered_map<uint64_t, Merge> merges;
  std::string unkToken, prefix, suffix;
  bool fuseUnk = false, byteFallback = false, ignoreMerges = false;
  int64_t byteIds[256];

  // A cache of words already tokenized, as HF's (bounded, not evicting).
  static constexpr size_t cacheCapacity = 10000;
  mutable std::mutex cacheMutex;
  mutable std::unordered_map<std::string, std::vector<int64_t>> cache;
};

bool BpeModel::parse(const Json &json, std::string &error) {
  if (!parseVocab(json, tokens, error) ||
      !optionalString(json, "unk_token", unkToken, error) ||
      !optionalString(json, "continuing_subword_prefix", prefix, error) ||
      !optionalString(json, "end_of_word_suffix", suffix, error))
    return false;
  fuseUnk = optionalBool(json, "fuse_unk", false);
  byteFallback = optionalBool(json, "byte_fallback", false);
  ignoreMerges = optionalBool(json, "ignore_merges", false);
  for (int b = 0; b < 256; ++b) {
    char name[8];
    std::snprintf(name, sizeof(name), "<0x%02X>", b);
    auto it = tokens.find(name);
    byteIds[b] = it == tokens.end() ? -1 : it->second;
  }
  auto list = json.find("merges");
  if (list == json.end() || !list->is_array()) {
    error = "model.merges must be a list";
    return false;
  }
  uint32_t rank = 0;
  for (const Json &merge : *list) {
    std::string a, b;
    if (merge.is_string()) {
      // The legacy "a b" form: tokens cannot contain a space there.
      const std::string &text = merge.get_ref<const std::string &>();
      size_t space = text.find(' ');
      if (space == std::string::npos ||
          text.find(' ', space + 1) != std::string::npos) {
        error = "model.merges: '" + text + "' is not two tokens 'a b'";
        return false;
      }
      a = text.substr(0, space);
      b = text.substr(space + 1);
    } else if (merge.is_array() && merge.size() == 2 && merge[0].is_string() &&
               merge[1].is_string()) {
      a = merge[0].get<std::string>();
      b = merge[1].get<std::string>();
    } else {
      error = "model.merges: each merge must be 'a b' or [a, b]";
      return false;
    }
    // As HF: the merged token drops b's continuing-subword prefix.
    std::string merged =
        a + (prefix.empty() || b.compare(0, prefix.size(), prefix) != 0
                 ? b
                 : b.substr(prefix.size()));
    auto ia = tokens.find(a), ib = tokens.find(b), im = tokens.find(merged);
    if (ia == tokens.end() || ib == tokens.end() || im == tokens.end()) {
      error = "model.merges: merge '" + a + " " + b +
              "' uses a token missing from the vocabulary";
      return false;
    }
    merges.emplace(key(ia->second, ib->second), Merge{rank++, im->second});
  }
  return true;
}

bool BpeModel::tokenize(std::string_view word, std::vector<int64_t> &ids,
                        std::string &error) const {
  if (word.empty())
    return true;
  if (ignoreMerges) {
    auto it = tokens.find(std::string(word));
    if (it != tokens.end()) {
      ids.push_back(it->second);
      return true;
    }
  }
  std::string key(word);
  {
    std::lock_guard<std::mutex> lock(cacheMutex);
    auto it = cache.find(key);
    if (it != cache.end()) {
      ids.insert(ids.end(), it->second.begin(), it->second.end());
      return true;
    }
  }
  std::vector<int64_t> wordIds;
  if (!mergeWord(word, wordIds, error))
    return false;
  ids.insert(ids.end(), wordIds.begin(), wordIds.end());
  std::lock_guard<std::mutex> lock(cacheMutex);
  if (cache.size() < cacheCapacity)
    cache.emplace(std::move(key), std::move(wordIds));
  return true;
}

// Follows tokenizers' BPE::merge_word and Word::merge_all: characters (or
// their <0xXX> bytes, or unk) first, then the lowest-ranked pair merges
// first, leftmost on ties, through a priority queue.
bool BpeModel::mergeWord(std::string_view word, std::vector<int64_t> &ids,
                         std::string &error) const {
  struct Symbol {
    int64_t id;
    int prev, next;
    bool alive;
  };
  std::vector<Symbol> symbols;
  auto add = [&](int64_t id) {
    int n = static_cast<int>(symbols.size());
    if (n > 0)
      symbols.back().next = n;
    symbols.push_back({id, n - 1, -1, true});
  };
  int64_t unkId = -1;
  bool pendingUnk = false;
  auto lookupUnk = [&]() {
    auto it = tokens.find(unkToken);
    if (it == tokens.end()) {
      error = "unknown token '" + unkToken + "' is not in the vocabulary";
      return false;
    }
    unkId = it->second;
    return true;
  };
  std::string piece;
  for (size_t i = 0; i < word.size();) {
    size_t len = utf8Length(static_cast<unsigned char>(word[i]));
    bool first = i == 0, last = i + len >= word.size();
    piece.assign(first || prefix.empty() ? "" : prefix);
    piece.append(word.substr(i, len));
    if (last)
      piece += suffix;
    i += len;
    auto it = tokens.find(piece);
    if (it != tokens.end()) {
      if (pendingUnk)
        add(unkId);
      pendingUnk = false;
      add(it->second);
      continue;
    }
    if (byteFallback) {
      bool all = true;
      for (unsigned char b : piece)
        all = all && byteIds[b] >= 0;
      if (all) {
        for (unsigned char b : piece)
          add(byteIds[b]);
        continue;
      }
    }
    if (unkToken.empty())
      continue;
    if (pendingUnk && !fuseUnk)
      add(unkId);
    if (!pendingUnk || !fuseUnk) {
      if (!lookupUnk())
        return false;
    }
    pendingUnk = true;
  }
  if (pendingUnk)
    add(unkId);

  struct Candidate {
    uint32_t rank;
    int pos;
    int64_t newId;
    bool operator>(const Candidate &o) const {
      return rank != o.rank ? rank > o.rank : pos > o.pos;
    }
  };
  std::priority_queue<Candidate, std::vector<Candidate>, std::greater<>> queue;
  auto consider = [&](int pos) {
    int next = symbols[pos].next;
    if (next < 0)
      return;
    auto it = merges.find(key(symbols[pos].id, symbols[next].id));
    if (it != merges.end())
      queue.push({it->second.rank, pos, it->second.newId});
  };
  for (int i = 0; i + 1 < static_cast<int>(symbols.size()); ++i)
    consider(i);
  while (!queue.empty()) {
    Candidate top = queue.top();
    queue.pop();
    Symbol &left = symbols[top.pos];
    if (!left.alive || left.next < 0)
      continue;
    Symbol &right = symbols[left.next];
    auto it = merges.find(key(left.id, right.id));
    if (it == merges.end() || it->second.newId != top.newId)
      continue; // Stale: a neighbour merged since.
    left.id = top.newId;
    right.alive = false;
    left.next = right.next;
    if (right.next >= 0)
      symbols[right.next].prev = top.pos;
    if (left.prev >= 0)
      consider(left.prev);
    consider(top.pos);
  }
  for (const Symbol &s : symbols)
    if (s.alive)
      ids.push_back(s.id);
  return true;
}

//===- WordPiece ---------------------------------------------------------===//

class WordPieceModel : public HfModel {
public:
  bool parse(const Json &json, std::string &error) {
    if (!parseVocab(json, tokens, error) ||
        !optionalString(json, "unk_token", unkToken, error) ||
        !optionalString(json, "continuing_subword_prefix", prefix, error))
      return false;
    auto it = json.find("max_input_chars_per_word");
    if (it != json.end() && it->is_number_unsigned())
      maxChars = it->get<uint64_t>();
    return true;
  }

  // tokenizers' WordPiece::tokenize: greedy longest match first.
  bool tokenize(std::string_view word, std::vector<int64_t> &ids,
                std::string &error) const override {
    size_t chars = 0;
    for (unsigned char c : word)
      chars += (c & 0xC0) != 0x80;
    std::vector<int64_t> pieces;
    bool bad = chars > maxChars;
    for (size_t start = 0; !bad && start < word.size();) {
      size_t end = word.size();
      int64_t found = -1;
      while (start < end) {
        std::string piece = (start > 0 ? prefix : std::string()) +
                            std::string(word.substr(start, end - start));
        auto it = tokens.find(piece);
        if (it != tokens.end()) {
          found = it->second;
          break;
        }
        do
          --end;
        while (end > start &&
               (static_cast<unsigned char>(word[end]) & 0xC0) == 0x80);
      }
      if (found < 0) {
        bad = true;
        break;
      }
      pieces.push_back(found);
      start = end;
    }
    if (bad) {
      auto it = tokens.find(unkToken);
      if (it == tokens.end()) {
        error = "unknown token '" + unkToken + "' is not in the vocabulary";
        return false;
      }
      ids.push_back(it->second);
      return true;
    }
    ids.insert(ids.end(), pieces.begin(), pieces.end());
    return true;
  }

private:
  std::string unkToken = "[UNK]", prefix = "##";
  uint64_t maxChars = 100;
};

//===- WordLevel ---------------------------------------------------------===//

class WordLevelModel : public HfModel {
public:
  bool parse(const Json &json, std::string &error) {
    return parseVocab(json, tokens, error) &&
           optionalString(json, "unk_token", unkToken, error);
  }
  bool tokenize(std::string_view word, std::vector<int64_t> &ids,
                std::string &error) const override {
    auto it = tokens.find(std::string(word));
    if (it == tokens.end())
      it = tokens.find(unkToken);
    if (it == tokens.end()) {
      error = "unknown token '" + unkToken + "' is not in the vocabulary";
      return false;
    }
    ids.push_back(it->second);
    return true;
  }

private:
  std::string unkToken;
};

/// `value` as serde_json (which `tokenizers` parses with) reads the shortest
/// text of it: without its float_roundtrip feature, serde_json scales the
/// decimal significand, rounded to a double, by a power of ten, so a
/// 17-digit score can land one ulp away from the correctly rounded value.
/// Unigram paths of equal score are told apart by such ulps.
double asSerdeJsonReadsIt(double value) {
  char text[64];
  auto [end, ec] = std::to_chars(text, text + sizeof(text), value);
  if (ec != std::errc())
    return value;
  const char *p = text;
  bool negative = *p == '-';
  p += negative;
  uint64_t significand = 0;
  int exponent = 0;
  bool fraction = false;
  for (; p < end && *p != 'e'; ++p) {
    if (*p == '.') {
      fraction = true;
      continue;
    }
    if (significand > (UINT64_MAX - 9) / 10)
      return value; // Not a shortest representation: leave it.
    significand = significand * 10 + static_cast<uint64_t>(*p - '0');
    exponent -= fraction;
  }
  if (p < end)
    exponent += std::atoi(p + 1);
  if (exponent < -308 || exponent > 308)
    return value;
  // serde_json's POW10 table holds the correctly rounded 1e0..1e308.
  double pow10 =
      std::strtod(("1e" + std::to_string(std::abs(exponent))).c_str(), nullptr);
  double f = static_cast<double>(significand);
  f = exponent >= 0 ? f * pow10 : f / pow10;
  return negative ? -f : f;
}

//===- Unigram -----------------------------------------------------------===//

// tokenizers' Unigram::encode_optimized (after sentencepiece's
// unigram_model.cc): Viterbi over the pieces that start at each character,
// an unknown character scoring the lowest score minus 10, runs of unknown
// characters fused; then pieces absent from the vocabulary (fused unknowns)
// as <0xXX> bytes or unk.
class UnigramModel : public HfModel {
public:
  bool parse(const Json &json, std::string &error) {
    auto list = json.find("vocab");
    if (list == json.end() || !list->is_array()) {
      error = "model.vocab must be a list of [piece, score]";
      return false;
    }
    if (list->size() >= size_t(maxTokenId)) {
      error = "model.vocab has 2^24 pieces or more";
      return false;
    }
    for (const Json &entry : *list) {
      if (!entry.is_array() || entry.size() != 2 || !entry[0].is_string() ||
          !entry[1].is_number()) {
        error = "model.vocab: each entry must be [piece, score]";
        return false;
      }
      auto id = static_cast<int64_t>(scores.size());
      std::string piece = entry[0].get<std::string>();
      scores.push_back(asSerdeJsonReadsIt(entry[1].get<double>()));
      minScore = std::min(minScore, scores.back());
      tokens.emplace(piece, id);
      trie.insert(piece, id);
    }
    auto unk = json.find("unk_id");
    if (unk != json.end() && !unk->is_null()) {
      if (!unk->is_number_unsigned() || unk->get<uint64_t>() >= scores.size()) {
        error = "model.unk_id must be the id of a piece";
        return false;
      }
      unkId = unk->get<int64_t>();
    }
    byteFallback = optionalBool(json, "byte_fallback", false);
    return true;
  }

  bool tokenize(std::string_view word, std::vector<int64_t> &ids,
                std::string &error) const override {
    struct Best {
      double score = 0;
      size_t start = SIZE_MAX;
      int64_t id = -1;
    };
    std::vector<Best> best(word.size() + 1);
    best[0].start = 0;
    double unkScore = minScore - 10.0;
    for (size_t start = 0; start < word.size();) {
      size_t charLen = utf8Length(static_cast<unsigned char>(word[start]));
      double here = best[start].score;
      bool single = false;
      trie.prefixes(word.substr(start), [&](size_t length, int64_t id) {
        Best &target = best[start + length];
        if (target.start == SIZE_MAX || here + scores[id] > target.score)
          target = {here + scores[id], start, id};
        single = single || length == charLen;
      });
      if (!single) {
        if (unkId < 0) {
          error = "Unigram model has no unk_id for an unknown character";
          return false;
        }
        Best &target = best[start + charLen];
        if (target.start == SIZE_MAX || here + unkScore > target.score)
          target = {here + unkScore, start, unkId};
      }
      start += charLen;
    }
    // Back from the end; consecutive unknowns fuse into one piece.
    std::vector<std::string_view> pieces;
    size_t fusedBegin = SIZE_MAX, fusedEnd = 0;
    for (size_t end = word.size(); end > 0;) {
      const Best &node = best[end];
      if (node.id == unkId) {
        if (fusedBegin == SIZE_MAX)
          fusedEnd = end;
        fusedBegin = node.start;
      } else {
        if (fusedBegin != SIZE_MAX)
          pieces.push_back(word.substr(fusedBegin, fusedEnd - fusedBegin));
        fusedBegin = SIZE_MAX;
        pieces.push_back(word.substr(node.start, end - node.start));
      }
      end = node.start;
    }
    if (fusedBegin != SIZE_MAX)
      pieces.push_back(word.substr(fusedBegin, fusedEnd - fusedBegin));
    for (auto it = pieces.rbegin(); it != pieces.rend(); ++it) {
      auto found = tokens.find(std::string(*it));
      if (found != tokens.end()) {
        ids.push_back(found->second);
        continue;
      }
      if (byteFallback && appendBytes(*it, ids))
        continue;
      ids.push_back(unkId);
    }
    return true;
  }

private:
  bool appendBytes(std::string_view piece, std::vector<int64_t> &ids) const {
    std::vector<int64_t> bytes;
    for (unsigned char b : piece) {
      char name[8];
      std::snprintf(name, sizeof(name), "<0x%02X>", b);
      auto it = tokens.find(name);
      if (it == tokens.end())
        return false;
      bytes.push_back(it->second);
    }
    ids.insert(ids.end(), bytes.begin(), bytes.end());
    return true;
  }

  std::vector<double> scores;
  double minScore = std::numeric_limits<double>::infinity();
  int64_t unkId = -1;
  bool byteFallback = false;
  ByteTrie trie; // Piece -> id.
};

} // namespace

std::unique_ptr<HfModel> HfModel::parse(const Json &json, std::string &error) {
  if (!json.is_object()) {
    error = "model must be an object";
    return nullptr;
  }
  std::string type;
  auto it = json.find("type");
  if (it != json.end() && it->is_string())
    type = it->get<std::string>();
  else if (json.contains("merges")) // Older files leave BPE untagged.
    type = "BPE";
  if (type == "BPE") {
    auto model = std::make_unique<BpeModel>();
    return model->parse(json, error) ? std::move(model) : nullptr;
  }
  if (type == "WordPiece") {
    auto model = std::make_unique<WordPieceModel>();
    return model->parse(json, error) ? std::move(model) : nullptr;
  }
  if (type == "WordLevel") {
    auto model = std::make_unique<WordLevelModel>();
    return model->parse(json, error) ? std::move(model) : nullptr;
  }
  if (type == "Unigram") {
    auto model = std::make_unique<UnigramModel>();
    return model->parse(json, error) ? std::move(model) : nullptr;
  }
  error = "unsupported model type '" + type +
          "' (supported: BPE, WordPiece, WordLevel, Unigram)";
  return nullptr;
}

} // namespace anvil::tokenizer
