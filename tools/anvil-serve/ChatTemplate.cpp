//===- ChatTemplate.cpp - chat messages to one prompt ---------------------===//

#include "ChatTemplate.h"

namespace anvil::serve {

std::string renderPlainChat(const std::vector<ChatMessage> &messages) {
  std::string prompt;
  for (const ChatMessage &message : messages)
    prompt += message.role + ": " + message.content + "\n";
  // No space after the colon: BPE vocabularies fold the space into the
  // next word's token, which the model then generates itself.
  return prompt + "assistant:";
}

} // namespace anvil::serve
