//===- anvil-tokenize.cpp - the runtime tokenizer from the command line --===//
//
//   anvil-tokenize TOKENIZER --encode [--special] < text     ids, one line
//   anvil-tokenize TOKENIZER --decode [--skip-special] < ids  text
//   anvil-tokenize TOKENIZER --batch < requests.jsonl        for tests
//
// TOKENIZER is a tokenizer.json or a SentencePiece .model. --batch reads one
// JSON request a line, {"encode": text, "special": bool} or {"decode": ids,
// "skip": bool}, and answers {"ids": [...]} or {"text": ..., "stream":
// [pieces IncrementalDecoder returned, flush() last], "stream_utf8": whether
// every piece is whole UTF-8}, or {"error": ...}.
//
//===----------------------------------------------------------------------===//

#include "runtime/tokenizer/Tokenizer.h"
#include "runtime/tokenizer/Unicode.h"

#include <cstring>
#include <fstream>
#include <iostream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <sstream>

using anvil::tokenizer::IncrementalDecoder;
using anvil::tokenizer::Tokenizer;
using Json = nlohmann::json;

namespace {

int usage() {
  std::cerr << "usage: anvil-tokenize TOKENIZER (--encode [--special] | "
               "--decode [--skip-special] | --batch)\n";
  return 2;
}

/// Prints and frees a failed status; true if `status` is OK.
bool check(anvil_status status) {
  if (!status)
    return true;
  std::cerr << "anvil-tokenize: " << anvil_status_get_message(status) << "\n";
  anvil_status_free(status);
  return false;
}

std::string dumpJson(const Json &json) {
  return json.dump(-1, ' ', false, Json::error_handler_t::replace);
}

Json answer(const Tokenizer &tokenizer, const Json &request) {
  auto flag = [&](const char *key) {
    auto it = request.find(key);
    return it != request.end() && it->is_boolean() && it->get<bool>();
  };
  if (request.contains("encode") && request["encode"].is_string()) {
    std::vector<int64_t> ids;
    anvil_status status = tokenizer.encode(request["encode"].get<std::string>(),
                                           flag("special"), ids);
    if (status) {
      Json error = {{"error", anvil_status_get_message(status)}};
      anvil_status_free(status);
      return error;
    }
    return {{"ids", ids}};
  }
  if (request.contains("decode") && request["decode"].is_array()) {
    std::vector<int64_t> ids;
    for (const Json &id : request["decode"])
      ids.push_back(id.is_number_integer() ? id.get<int64_t>() : -1);
    bool skip = flag("skip");
    IncrementalDecoder stream(tokenizer, skip);
    Json pieces = Json::array();
    bool valid = true;
    for (size_t i = 0; i <= ids.size(); ++i) {
      std::string piece = i < ids.size() ? stream.push(ids[i]) : stream.flush();
      valid = valid && anvil::tokenizer::isValidUtf8(piece);
      pieces.push_back(piece);
    }
    return {{"text", tokenizer.decode(ids, skip)},
            {"stream", pieces},
            {"stream_utf8", valid}};
  }
  return {{"error", "a request needs 'encode' (text) or 'decode' (ids)"}};
}

} // namespace

int main(int argc, char **argv) {
  if (argc < 3)
    return usage();
  std::ifstream file(argv[1], std::ios::binary);
  if (!file) {
    std::cerr << "anvil-tokenize: cannot read " << argv[1] << "\n";
    return 1;
  }
  std::string bytes((std::istreambuf_iterator<char>(file)),
                    std::istreambuf_iterator<char>());
  std::unique_ptr<Tokenizer> tokenizer;
  if (!check(Tokenizer::load(bytes, tokenizer)))
    return 1;
  std::string mode = argv[2];
  bool option = argc > 3 && (std::strcmp(argv[3], "--special") == 0 ||
                             std::strcmp(argv[3], "--skip-special") == 0);
  if (mode == "--encode") {
    std::string text((std::istreambuf_iterator<char>(std::cin)),
                     std::istreambuf_iterator<char>());
    std::vector<int64_t> ids;
    if (!check(tokenizer->encode(text, option, ids)))
      return 1;
    for (size_t i = 0; i < ids.size(); ++i)
      std::cout << (i ? " " : "") << ids[i];
    std::cout << "\n";
    return 0;
  }
  if (mode == "--decode") {
    std::vector<int64_t> ids;
    for (int64_t id; std::cin >> id;)
      ids.push_back(id);
    std::cout << tokenizer->decode(ids, option);
    return 0;
  }
  if (mode == "--batch") {
    for (std::string line; std::getline(std::cin, line);) {
      Json request = Json::parse(line, nullptr, /*allow_exceptions=*/false);
      std::cout << dumpJson(request.is_discarded()
                                ? Json{{"error", "request is not JSON"}}
                                : answer(*tokenizer, request))
                << "\n";
    }
    return 0;
  }
  return usage();
}
