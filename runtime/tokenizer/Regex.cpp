//===- Regex.cpp - a backtracking matcher for pre-tokenizer regexes ------===//

#include "runtime/tokenizer/Regex.h"

#include "runtime/tokenizer/Unicode.h"

#include <cctype>
#include <utf8proc.h>

namespace anvil::tokenizer {

namespace {

int categoryOf(char32_t c) {
  return utf8proc_category(static_cast<utf8proc_int32_t>(c));
}

/// One member of a class: a range, a set of general categories, or one of
/// \s \w \d; possibly negated (\S, \P{..}).
struct ClassItem {
  enum Kind { Range, Categories, Space, Word, Digit } kind;
  char32_t lo = 0, hi = 0;
  uint32_t categories = 0; // Bit i: utf8proc category i.
  bool negated = false;

  bool matches(char32_t c, bool ignoreCase) const {
    bool hit = false;
    switch (kind) {
    case Range:
      hit = (c >= lo && c <= hi);
      if (!hit && ignoreCase) {
        auto lower = static_cast<char32_t>(
            utf8proc_tolower(static_cast<utf8proc_int32_t>(c)));
        auto upper = static_cast<char32_t>(
            utf8proc_toupper(static_cast<utf8proc_int32_t>(c)));
        hit = (lower >= lo && lower <= hi) || (upper >= lo && upper <= hi);
      }
      break;
    case Categories:
      hit = (categories >> categoryOf(c)) & 1;
      break;
    case Space:
      hit = isWhitespace(c);
      break;
    case Word:
      hit = isWordChar(c);
      break;
    case Digit:
      hit = categoryOf(c) == UTF8PROC_CATEGORY_ND;
      break;
    }
    return hit != negated;
  }
};

} // namespace

struct Regex::Node {
  enum Kind { Class, Concat, Alternation, Repeat, LookAhead } kind;
  // Class: matches one character.
  std::vector<ClassItem> items;
  bool negated = false, ignoreCase = false;
  // Concat, Alternation: children; Repeat, LookAhead: children[0].
  std::vector<Node *> children;
  size_t min = 0, max = 0;
  bool greedy = true;

  bool matchesChar(char32_t c) const {
    bool hit = false;
    for (const ClassItem &item : items)
      if ((hit = item.matches(c, ignoreCase)))
        break;
    return hit != negated;
  }
};

Regex::~Regex() = default;

/// A recursive-descent parser over the pattern's code points.
class RegexParser {
public:
  RegexParser(Regex &regex, std::string_view pattern, std::string &error)
      : regex(regex), pattern(pattern), error(error) {}

  bool parse() {
    regex.root = alternation(false);
    if (regex.root && pos < pattern.size())
      return fail("unbalanced ')'");
    return regex.root != nullptr;
  }

private:
  using Node = Regex::Node;
  Regex &regex;
  std::string_view pattern;
  std::string &error;
  size_t pos = 0, nesting = 0;

  Node *make(Node::Kind kind) {
    regex.nodes.push_back(std::make_unique<Node>());
    regex.nodes.back()->kind = kind;
    return regex.nodes.back().get();
  }
  bool fail(const std::string &what) {
    if (error.empty())
      error = what + " at offset " + std::to_string(pos);
    return false;
  }
  bool atEnd() const { return pos >= pattern.size(); }
  char peek() const { return atEnd() ? '\0' : pattern[pos]; }
  char32_t next() {
    size_t n;
    char32_t c = decodeAt(pattern, pos, n);
    pos += n;
    return c;
  }
  bool accept(std::string_view s) {
    if (pattern.substr(pos, s.size()) != s)
      return false;
    pos += s.size();
    return true;
  }

  Node *alternation(bool ignoreCase) {
    // The parser recurses per group: bound the nesting.
    if (++nesting > 100)
      return fail("groups nested too deeply"), nullptr;
    Node *alt = make(Node::Alternation);
    do {
      Node *seq = concat(ignoreCase);
      if (!seq)
        return nullptr;
      alt->children.push_back(seq);
    } while (accept("|"));
    --nesting;
    return alt->children.size() == 1 ? alt->children[0] : alt;
  }

  Node *concat(bool ignoreCase) {
    Node *seq = make(Node::Concat);
    while (!atEnd() && peek() != '|' && peek() != ')') {
      Node *atom = quantified(ignoreCase);
      if (!atom)
        return nullptr;
      seq->children.push_back(atom);
    }
    return seq;
  }

  bool number(size_t &out) {
    size_t start = pos;
    out = 0;
    while (!atEnd() && peek() >= '0' && peek() <= '9' && out < 100000)
      out = out * 10 + static_cast<size_t>(next() - '0');
    return pos > start;
  }

  Node *quantified(bool ignoreCase) {
    Node *atom = this->atom(ignoreCase);
    while (atom && !atEnd()) {
      size_t min, max;
      char c = peek();
      if (c == '?' || c == '*' || c == '+') {
        ++pos;
        min = c == '+' ? 1 : 0;
        max = c == '?' ? 1 : SIZE_MAX;
      } else if (c == '{') {
        ++pos;
        if (!number(min))
          return fail("'{' without a count"), nullptr;
        max = min;
        if (accept(",") && !number(max))
          max = SIZE_MAX;
        if (!accept("}") || max < min)
          return fail("malformed {n,m}"), nullptr;
      } else {
        break;
      }
      Node *repeat = make(Node::Repeat);
      repeat->children = {atom};
      repeat->min = min;
      repeat->max = max;
      if (accept("?"))
        repeat->greedy = false;
      else if (peek() == '+')
        return fail("possessive quantifiers are not supported"), nullptr;
      atom = repeat;
    }
    return atom;
  }

  Node *atom(bool ignoreCase) {
    char c = peek();
    if (c == '(') {
      ++pos;
      Node *group;
      if (accept("?:")) {
        group = alternation(ignoreCase);
      } else if (accept("?i:")) {
        group = alternation(true);
      } else if (accept("?!") || accept("?=")) {
        bool negative = pattern[pos - 1] == '!';
        group = make(Node::LookAhead);
        group->negated = negative;
        Node *inner = alternation(ignoreCase);
        if (!inner)
          return nullptr;
        group->children = {inner};
      } else if (peek() == '?') {
        return fail("group syntax '(?" + std::string(1, pattern[pos + 1]) +
                    "' is not supported"),
               nullptr;
      } else {
        group = alternation(ignoreCase); // Captures are not needed.
      }
      if (!group || !accept(")"))
        return group ? (fail("missing ')'"), nullptr) : nullptr;
      return group;
    }
    if (c == '[')
      return characterClass(ignoreCase);
    if (c == '^' || c == '$')
      return fail("anchors are not supported"), nullptr;
    if (c == '*' || c == '+' || c == '?' || c == '{')
      return fail("nothing to repeat"), nullptr;
    Node *node = make(Node::Class);
    node->ignoreCase = ignoreCase;
    if (c == '.') {
      ++pos;
      node->negated = true; // Any character but a newline (Oniguruma's).
      node->items.push_back({ClassItem::Range, '\n', '\n'});
      return node;
    }
    ClassItem item;
    if (!classAtom(item, /*inClass=*/false))
      return nullptr;
    node->items.push_back(item);
    return node;
  }

  bool categoryItem(std::string_view name, ClassItem &item) {
    static const char *const names[] = {
        "Cn", "Lu", "Ll", "Lt", "Lm", "Lo", "Mn", "Mc", "Me", "Nd",
        "Nl", "No", "Pc", "Pd", "Ps", "Pe", "Pi", "Pf", "Po", "Sm",
        "Sc", "Sk", "So", "Zs", "Zl", "Zp", "Cc", "Cf", "Cs", "Co"};
    item.kind = ClassItem::Categories;
    item.categories = 0;
    for (uint32_t i = 0; i < 30; ++i)
      if (name == names[i] || (name.size() == 1 && names[i][0] == name[0]))
        item.categories |= uint32_t(1) << i;
    if (name == "L&" || name == "LC")
      item.categories = 0xE; // Lu, Ll, Lt.
    if (item.categories == 0 || name.size() > 2)
      return fail("Unicode class \\p{" + std::string(name) +
                  "} is not supported");
    return true;
  }

  /// An escape or a literal character: one class item.
  bool classAtom(ClassItem &item, bool inClass) {
    if (atEnd())
      return fail("unexpected end");
    char32_t c = next();
    item = {ClassItem::Range, c, c};
    if (c != '\\')
      return true;
    if (atEnd())
      return fail("trailing '\\'");
    c = next();
    switch (c) {
    case 's':
    case 'S':
      item = {ClassItem::Space};
      item.negated = c == 'S';
      return true;
    case 'w':
    case 'W':
      item = {ClassItem::Word};
      item.negated = c == 'W';
      return true;
    case 'd':
    case 'D':
      item = {ClassItem::Digit};
      item.negated = c == 'D';
      return true;
    case 'p':
    case 'P': {
      bool negated = c == 'P';
      if (!accept("{"))
        return fail("\\p needs {name}");
      bool caret = accept("^");
      size_t end = pattern.find('}', pos);
      if (end == std::string_view::npos)
        return fail("\\p{ without '}'");
      std::string_view name = pattern.substr(pos, end - pos);
      pos = end + 1;
      if (!categoryItem(name, item))
        return false;
      item.negated = negated != caret;
      return true;
    }
    case 'r':
      item.lo = item.hi = '\r';
      return true;
    case 'n':
      item.lo = item.hi = '\n';
      return true;
    case 't':
      item.lo = item.hi = '\t';
      return true;
    case 'f':
      item.lo = item.hi = '\f';
      return true;
    case 'v':
      item.lo = item.hi = '\v';
      return true;
    case 'x':
    case 'u': {
      bool braces = accept("{");
      size_t digits = 0;
      char32_t value = 0;
      while (!atEnd() && std::isxdigit(static_cast<unsigned char>(peek())) &&
             digits < (braces     ? 6
                       : c == 'x' ? 2
                                  : 4)) {
        char h = static_cast<char>(next());
        value = value * 16 + static_cast<char32_t>(
                                 h <= '9' ? h - '0' : (h | 0x20) - 'a' + 10);
        ++digits;
      }
      if (digits == 0 || (braces && !accept("}")) || value > 0x10FFFF)
        return fail("malformed \\x or \\u escape");
      item.lo = item.hi = value;
      return true;
    }
    default:
      // Escaped punctuation stands for itself; an escaped letter or digit
      // would mean something this matcher does not know.
      if (c < 0x80 && std::isalnum(static_cast<int>(c)))
        return fail(std::string("escape '\\") + static_cast<char>(c) +
                    "' is not supported");
      (void)inClass;
      item.lo = item.hi = c;
      return true;
    }
  }

  Node *characterClass(bool ignoreCase) {
    ++pos; // '['
    Node *node = make(Node::Class);
    node->ignoreCase = ignoreCase;
    node->negated = accept("^");
    bool first = true;
    while (true) {
      if (atEnd())
        return fail("missing ']'"), nullptr;
      if (peek() == ']' && !first)
        break;
      if (peek() == '[' || pattern.substr(pos, 2) == "&&")
        return fail("nested classes are not supported"), nullptr;
      first = false;
      ClassItem item;
      if (!classAtom(item, true))
        return nullptr;
      if (item.kind == ClassItem::Range && peek() == '-' &&
          pos + 1 < pattern.size() && pattern[pos + 1] != ']') {
        ++pos;
        ClassItem hi;
        if (!classAtom(hi, true))
          return nullptr;
        if (hi.kind != ClassItem::Range || hi.lo < item.lo)
          return fail("bad range in class"), nullptr;
        item.hi = hi.lo;
      }
      node->items.push_back(item);
    }
    ++pos; // ']'
    return node;
  }
};

std::shared_ptr<const Regex> Regex::compile(std::string_view pattern,
                                            std::string &error) {
  if (!isValidUtf8(pattern)) {
    error = "the pattern is not UTF-8";
    return nullptr;
  }
  auto regex = std::make_shared<Regex>();
  RegexParser parser(*regex, pattern, error);
  if (!parser.parse())
    return nullptr;
  return regex;
}

namespace {

/// A non-owning continuation: what must match after a node.
struct Cont {
  bool (*fn)(const void *, size_t);
  const void *obj;
  bool operator()(size_t pos) const { return fn(obj, pos); }
};
template <typename F> Cont cont(const F &f) {
  return {
      [](const void *o, size_t p) { return (*static_cast<const F *>(o))(p); },
      &f};
}

/// Continuation-passing backtracking (leftmost-first, as Oniguruma), with
/// a step budget so that a hostile pattern cannot hang encode.
class Matcher {
public:
  using Node = Regex::Node;
  explicit Matcher(std::string_view text)
      : stepLimit(1000 * text.size() + 1'000'000), text(text) {}

  bool match(const Node *node, size_t pos, Cont k, size_t depth = 0) {
    if (++steps > stepLimit || depth > depthLimit)
      throw RegexTooExpensive("pre_tokenizer regex: too many steps");
    switch (node->kind) {
    case Node::Class: {
      size_t n;
      if (pos >= text.size() || !node->matchesChar(decodeAt(text, pos, n)))
        return false;
      return k(pos + n);
    }
    case Node::Concat:
      return sequence(node, 0, pos, k, depth);
    case Node::Alternation:
      for (const Node *child : node->children)
        if (match(child, pos, k, depth + 1))
          return true;
      return false;
    case Node::LookAhead: {
      auto any = [](size_t) { return true; };
      bool hit = match(node->children[0], pos, cont(any), depth + 1);
      return hit != node->negated && k(pos);
    }
    case Node::Repeat:
      if (node->children[0]->kind == Node::Class)
        return repeatChar(node, pos, k);
      return repeat(node, 0, pos, k, depth);
    }
    return false;
  }

  size_t steps = 0;

private:
  // The C++ stack grows with the depth: a few frames per level.
  static constexpr size_t depthLimit = 4000;
  size_t stepLimit;
  std::string_view text;

  bool sequence(const Node *node, size_t i, size_t pos, Cont k, size_t depth) {
    if (i == node->children.size())
      return k(pos);
    auto rest = [&](size_t p) {
      return sequence(node, i + 1, p, k, depth + 1);
    };
    return match(node->children[i], pos, cont(rest), depth + 1);
  }

  // A repeated single character: count the run, then back off.
  bool repeatChar(const Node *node, size_t pos, Cont k) {
    const Node *ch = node->children[0];
    std::vector<size_t> ends{pos};
    size_t p = pos, n;
    while (ends.size() - 1 < node->max && p < text.size() &&
           ch->matchesChar(decodeAt(text, p, n))) {
      p += n;
      ends.push_back(p);
      ++steps;
    }
    size_t count = ends.size() - 1;
    if (count < node->min)
      return false;
    if (node->greedy) {
      for (size_t i = count + 1; i-- > node->min;)
        if (k(ends[i]))
          return true;
    } else {
      for (size_t i = node->min; i <= count; ++i)
        if (k(ends[i]))
          return true;
    }
    return false;
  }

  bool repeat(const Node *node, size_t count, size_t pos, Cont k,
              size_t depth) {
    auto more = [&](size_t p) {
      return p != pos && repeat(node, count + 1, p, k, depth + 1);
    };
    bool canMore = count < node->max;
    if (node->greedy) {
      if (canMore && match(node->children[0], pos, cont(more), depth + 1))
        return true;
      return count >= node->min && k(pos);
    }
    if (count >= node->min && k(pos))
      return true;
    return canMore && match(node->children[0], pos, cont(more), depth + 1);
  }
};

} // namespace

void Regex::findAll(std::string_view text,
                    std::vector<std::pair<size_t, size_t>> &matches) const {
  Matcher matcher(text);
  for (size_t pos = 0; pos < text.size();) {
    size_t end = 0;
    auto found = [&](size_t p) {
      end = p;
      return true;
    };
    if (matcher.match(root, pos, cont(found)) && end > pos) {
      matches.emplace_back(pos, end);
      pos = end;
    } else {
      pos += utf8Length(static_cast<unsigned char>(text[pos]));
    }
  }
}

} // namespace anvil::tokenizer
