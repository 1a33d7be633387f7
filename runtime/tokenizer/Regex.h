//===- Regex.h - a backtracking matcher for pre-tokenizer regexes -*- C++ -*-//
//
// The subset of Oniguruma's syntax that tokenizer.json Split patterns use
// (alternation, groups, (?i:...), lookahead, greedy and lazy quantifiers,
// classes with ranges, \s \d \w and \p{..} Unicode categories), matched
// leftmost-first with backtracking, as Oniguruma does. For patterns other
// than the ones SplitPatterns.h matches by hand (DeepSeek's, o200k's, ...).
// A match that takes too many steps throws RegexTooExpensive.
//
//===----------------------------------------------------------------------===//

#ifndef ANVIL_RUNTIME_TOKENIZER_REGEX_H
#define ANVIL_RUNTIME_TOKENIZER_REGEX_H

#include <cstddef>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace anvil::tokenizer {

struct RegexTooExpensive : std::runtime_error {
  using std::runtime_error::runtime_error;
};

class Regex {
public:
  /// Compiles `pattern`; null with `error` naming what is not supported.
  static std::shared_ptr<const Regex> compile(std::string_view pattern,
                                              std::string &error);
  /// The leftmost non-overlapping non-empty matches in valid UTF-8 `text`.
  void findAll(std::string_view text,
               std::vector<std::pair<size_t, size_t>> &matches) const;

  struct Node;
  ~Regex();

private:
  std::vector<std::unique_ptr<Node>> nodes;
  Node *root = nullptr;
  friend class RegexParser;
};

} // namespace anvil::tokenizer

#endif // ANVIL_RUNTIME_TOKENIZER_REGEX_H
