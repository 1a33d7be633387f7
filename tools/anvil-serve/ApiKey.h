//===- ApiKey.h - the Bearer key check --------------------------*- C++ -*-===//
//
// With --api-key (or ANVIL_API_KEY) every /v1 request must carry
// "Authorization: Bearer <key>". The comparison takes the same time
// whatever the header holds: both sides are hashed to 32 bytes (BLAKE2b,
// libsodium's crypto_generichash) and compared with sodium_memcmp, so
// neither the key's length nor how many of its bytes match leaks through
// timing.
//
//===----------------------------------------------------------------------===//

#ifndef ANVIL_TOOLS_ANVIL_SERVE_APIKEY_H
#define ANVIL_TOOLS_ANVIL_SERVE_APIKEY_H

#include <array>
#include <string>

namespace anvil::serve {

class ApiKeyCheck {
public:
  /// An empty `key` turns the check off.
  explicit ApiKeyCheck(const std::string &key);
  bool enabled() const { return on; }
  /// Whether `authorization` (the header's value) is "Bearer <key>"
  /// (the scheme in any case); always true when the check is off.
  bool allows(const std::string &authorization) const;

private:
  bool on = false;
  std::array<unsigned char, 32> digest{};
};

} // namespace anvil::serve

#endif // ANVIL_TOOLS_ANVIL_SERVE_APIKEY_H
