//===- ApiKey.cpp - the Bearer key check ----------------------------------===//

#include "ApiKey.h"

#include <sodium.h>

#include <cctype>

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
    digest = hash(key);
}

bool ApiKeyCheck::allows(const std::string &authorization) const {
  if (!on)
    return true;
  // The scheme is case-insensitive (RFC 7235); only the key is secret.
  const std::string scheme = "bearer ";
  if (authorization.size() < scheme.size())
    return false;
  for (size_t i = 0; i < scheme.size(); ++i)
    if (std::tolower((unsigned char)authorization[i]) != scheme[i])
      return false;
  std::array<unsigned char, 32> given =
      hash(authorization.substr(scheme.size()));
  return sodium_memcmp(given.data(), digest.data(), digest.size()) == 0;
}

} // namespace anvil::serve
