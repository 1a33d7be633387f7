//===- ArtifactTokenizer.h - the artifact's tokenizer -----------*- C++ -*-===//
//
// The engine tokenizes prompts itself, but the server needs the tokenizer
// too: to count prompt tokens before submitting (usage, the context-length
// check) and to spell out tokens in logprobs. The C API does not expose
// the engine's, so the server maps the artifact again and loads the
// tokenizer section with the same runtime tokenizer.
//
//===----------------------------------------------------------------------===//

#ifndef ANVIL_TOOLS_ANVIL_SERVE_ARTIFACTTOKENIZER_H
#define ANVIL_TOOLS_ANVIL_SERVE_ARTIFACTTOKENIZER_H

#include "runtime/tokenizer/Tokenizer.h"

#include <memory>
#include <string>

namespace anvil::serve {

/// Loads the tokenizer section of the artifact at `path` into `out` (null
/// when the artifact has none). Returns false with `error` when the file
/// cannot be read or the section does not parse. The artifact was already
/// opened and checked by anvil_model_open_file, so checksums are not
/// recomputed here.
bool loadArtifactTokenizer(const std::string &path,
                           std::unique_ptr<tokenizer::Tokenizer> &out,
                           std::string &error);

} // namespace anvil::serve

#endif // ANVIL_TOOLS_ANVIL_SERVE_ARTIFACTTOKENIZER_H
