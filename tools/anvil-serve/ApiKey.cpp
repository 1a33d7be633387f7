//===- ApiKey.cpp - the Bearer key check ----------------------------------===//

#include "ApiKey.h"

#include <sodium.h>

namespace anvil::serve {
namespace {

std::array<unsigned char, 32> hash(const std::string &text) {
  std::array<unsigned char, 32> out{};
  crypto_generichash(out.data(), out.size(),
                     reinterpret_cast<const unsigned char *>(text.data()),
                     text.size(), nullptr, 0);
  return out;
}

} // namespace

ApiKeyCheck::ApiKeyCheck(const std::string &key) : on(!key.empty()) {
  // Idempotent and thread-safe. Its failure (no random source) does not
  // matter here: hashing and comparing use none.
  (void)sodium_init();
  if (!key.empty())
    digest = hash("Bearer " + key);
}

bool ApiKeyCheck::allows(const std::string &authorization) const {
  if (!on)
    return true;
  std::array<unsigned char, 32> given = hash(authorization);
  return sodium_memcmp(given.data(), digest.data(), digest.size()) == 0;
}

} // namespace anvil::serve
