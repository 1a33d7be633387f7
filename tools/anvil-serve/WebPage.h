//===- WebPage.h - the demo page served at GET / ----------------*- C++ -*-===//
//
// web/index.html, embedded at build time (EmbedPage.cmake).
//
//===----------------------------------------------------------------------===//

#ifndef ANVIL_TOOLS_ANVIL_SERVE_WEBPAGE_H
#define ANVIL_TOOLS_ANVIL_SERVE_WEBPAGE_H

#include <cstddef>

namespace anvil::serve {

extern const char kIndexHtml[];
extern const size_t kIndexHtmlSize;

} // namespace anvil::serve

#endif // ANVIL_TOOLS_ANVIL_SERVE_WEBPAGE_H
