//===- limits.h - the sizes the runtime refuses to go beyond -----*- C++
//-*-===//
//
// One place for the limits that keep hostile or careless input from
// making the loader recurse, allocate or compute without bound
// (docs/security.md, "Limits"). The compiler may include this header to
// refuse at compile time what the runtime would refuse at load time. To
// change a limit, change it here and rebuild both.
//
//===----------------------------------------------------------------------===//

#ifndef ANVIL_LIMITS_H
#define ANVIL_LIMITS_H

#include <cstdint>

namespace anvil::limits {

/// The manifest section's size. Real manifests take a few KiB to a few
/// hundred KiB (one line per input and output); the bound also bounds what
/// `anvil-run info` prints.
constexpr uint64_t kMaxManifestBytes = uint64_t(1) << 20;
/// How deeply the manifest's JSON may nest (objects and arrays). anvilc
/// writes 6 levels; nlohmann::json prints (and older versions parse)
/// recursively, so a deep manifest would exhaust the stack.
constexpr unsigned kMaxManifestDepth = 32;
/// One tensor of an entry point's signature, at the maxima of its sizes:
/// 256 TiB, more memory than any machine the runtime targets has and far
/// below where byte-size arithmetic in int64_t overflows. The compiler
/// refuses larger tensors with the same constant (dialects/Anvil/
/// ShapeUtils.h), so what compiles also loads.
constexpr uint64_t kMaxTensorBytes = uint64_t(1) << 48;
/// One entry point's scratch arena; the same reasoning.
constexpr uint64_t kMaxArenaBytes = uint64_t(1) << 48;

} // namespace anvil::limits

#endif // ANVIL_LIMITS_H
