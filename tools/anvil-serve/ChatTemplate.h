//===- ChatTemplate.h - chat messages to one prompt -------------*- C++ -*-===//
//
// A decoder sees one text; a chat request is a list of messages. Models
// tuned for chat ship a Jinja template (tokenizer_config.json's
// chat_template) that says how to join them. Anvil artifacts embed only
// tokenizer.json, which carries none, so today every model gets the plain
// fallback below (docs/serving.md); a template recorded in the artifact
// would be applied here.
//
//===----------------------------------------------------------------------===//

#ifndef ANVIL_TOOLS_ANVIL_SERVE_CHATTEMPLATE_H
#define ANVIL_TOOLS_ANVIL_SERVE_CHATTEMPLATE_H

#include "GenerationRequest.h"

#include <string>
#include <vector>

namespace anvil::serve {

/// The plain fallback: one "role: content\n" line per message, then
/// "assistant:" for the model to continue, as llama.cpp's and vLLM's
/// template-less fallbacks do.
std::string renderPlainChat(const std::vector<ChatMessage> &messages);

} // namespace anvil::serve

#endif // ANVIL_TOOLS_ANVIL_SERVE_CHATTEMPLATE_H
