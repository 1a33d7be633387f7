//===- ByteTrie.h - a byte trie of strings to ids ----------------*- C++
//-*-===//
//
// Added tokens (leftmost-longest matching) and Unigram pieces (every piece
// that starts at a position) are looked up a byte at a time.
//
//===----------------------------------------------------------------------===//

#ifndef ANVIL_RUNTIME_TOKENIZER_BYTETRIE_H
#define ANVIL_RUNTIME_TOKENIZER_BYTETRIE_H

#include <cstdint>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace anvil::tokenizer {

class ByteTrie {
public:
  /// Maps `key` (non-empty) to `value` unless an equal key came first.
  void insert(std::string_view key, int64_t value) {
    int32_t node = 0;
    for (unsigned char b : key) {
      auto it = edges.find(edge(node, b));
      if (it == edges.end()) {
        it = edges.emplace(edge(node, b), static_cast<int32_t>(values.size()))
                 .first;
        values.push_back(-1);
      }
      node = it->second;
    }
    if (node != 0 && values[node] < 0)
      values[node] = value;
  }

  bool empty() const { return values.size() == 1; }

  /// Calls `visit(length, value)` for each key that `text` starts with,
  /// shortest first.
  template <typename Visit>
  void prefixes(std::string_view text, Visit visit) const {
    int32_t node = 0;
    for (size_t i = 0; i < text.size(); ++i) {
      auto it = edges.find(edge(node, static_cast<unsigned char>(text[i])));
      if (it == edges.end())
        return;
      node = it->second;
      if (values[node] >= 0)
        visit(i + 1, values[node]);
    }
  }

private:
  static uint64_t edge(int32_t node, unsigned char b) {
    return (uint64_t(node) << 8) | b;
  }
  std::unordered_map<uint64_t, int32_t> edges; // (node, byte) -> node
  std::vector<int64_t> values{-1};             // node -> value, or -1
};

} // namespace anvil::tokenizer

#endif // ANVIL_RUNTIME_TOKENIZER_BYTETRIE_H
