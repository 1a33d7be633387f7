//===- Generate.h - anvil-run generate ---------------------------*- C++
//-*-===//

#ifndef ANVIL_TOOLS_ANVIL_RUN_GENERATE_H
#define ANVIL_TOOLS_ANVIL_RUN_GENERATE_H

#include <string>
#include <vector>

namespace anvil::tools {

/// `anvil-run generate MODEL.anvil ...` with the arguments after
/// "generate"; returns the process exit code.
int generate(const std::vector<std::string> &args);

} // namespace anvil::tools

#endif // ANVIL_TOOLS_ANVIL_RUN_GENERATE_H
