//===- Status.h - anvil_status inside the runtime ----------------*- C++
//-*-===//

#ifndef ANVIL_RUNTIME_STATUS_H
#define ANVIL_RUNTIME_STATUS_H

#include "anvil/anvil.h"

#include <new>
#include <string>
#include <system_error>

struct anvil_status_s {
  anvil_status_code code;
  std::string message;
};

namespace anvil::runtime {

/// A new status the caller of the C API will own.
inline anvil_status makeStatus(anvil_status_code code, std::string message) {
  return new (std::nothrow) anvil_status_s{code, std::move(message)};
}

/// Runs a C API function's body so that no C++ exception (an allocation
/// failure inside the standard library) crosses the C boundary.
template <typename Body> anvil_status guarded(Body &&body) noexcept {
  try {
    return body();
  } catch (const std::bad_alloc &) {
    return makeStatus(ANVIL_RESOURCE_EXHAUSTED, "out of memory");
  } catch (const std::system_error &e) {
    // The system refused a resource (a thread: EAGAIN from pthread_create).
    bool exhausted = e.code() == std::errc::resource_unavailable_try_again ||
                     e.code() == std::errc::not_enough_memory;
    return makeStatus(exhausted ? ANVIL_RESOURCE_EXHAUSTED : ANVIL_INTERNAL,
                      e.what());
  } catch (...) {
    return makeStatus(ANVIL_INTERNAL, "unexpected C++ exception");
  }
}

} // namespace anvil::runtime

#endif // ANVIL_RUNTIME_STATUS_H
