//===- SignArtifact.cpp - anvilc's signing and key generation -------------===//

#include "SignArtifact.h"

#include "anvil/artifact_signature.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/raw_ostream.h"

namespace anvil::tools {
namespace {

std::unique_ptr<llvm::MemoryBuffer> readFile(const std::string &path,
                                             std::string &error) {
  auto buffer = llvm::MemoryBuffer::getFile(path, /*IsText=*/false,
                                            /*RequiresNullTerminator=*/false);
  if (!buffer) {
    error = "cannot read '" + path + "': " + buffer.getError().message();
    return nullptr;
  }
  return std::move(*buffer);
}

} // namespace

bool signArtifactFile(const std::string &path, const std::string &keyFile,
                      std::string &error) {
  using namespace anvil::artifact;
  SecretKey key;
  if (!readSecretKeyFile(keyFile, key, error))
    return false;
  auto buffer = readFile(path, error);
  if (!buffer)
    return false;
  auto view = ArtifactView::parse(
      reinterpret_cast<const unsigned char *>(buffer->getBufferStart()),
      buffer->getBufferSize(), ParseOptions{}, error);
  if (!view) {
    error = path + ": " + error;
    return false;
  }
  std::string temporary = path + ".signing";
  std::error_code ec;
  llvm::raw_fd_ostream os(temporary, ec, llvm::sys::fs::OF_None);
  if (ec) {
    error = "cannot write '" + temporary + "': " + ec.message();
    return false;
  }
  bool ok = signArtifact(
      *view, key,
      [&](const void *data, size_t size) {
        os.write(static_cast<const char *>(data), size);
        return !os.has_error();
      },
      error);
  os.close();
  if (ok && os.has_error()) {
    error = "cannot write '" + temporary + "': " + os.error().message();
    ok = false;
  }
  os.clear_error();
  if (ok) {
    if (std::error_code renamed = llvm::sys::fs::rename(temporary, path)) {
      error = "cannot rename '" + temporary + "' to '" + path +
              "': " + renamed.message();
      ok = false;
    }
  }
  if (!ok)
    llvm::sys::fs::remove(temporary);
  return ok;
}

bool generateSigningKeyFiles(const std::string &prefix, std::string &error) {
  using namespace anvil::artifact;
  PublicKey publicKey;
  SecretKey secretKey;
  if (!generateSigningKey(publicKey, secretKey, error))
    return false;
  return writeSecretKeyFile(prefix + ".key", secretKey, error) &&
         writePublicKeyFile(prefix + ".pub", publicKey, error);
}

bool sha256OfFile(const std::string &path, std::string &hex,
                  std::string &error) {
  auto buffer = readFile(path, error);
  if (!buffer)
    return false;
  hex = anvil::artifact::sha256Hex(buffer->getBufferStart(),
                                   buffer->getBufferSize());
  return true;
}

} // namespace anvil::tools
