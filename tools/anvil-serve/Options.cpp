//===- Options.cpp - anvil-serve's command line ---------------------------===//

#include "Options.h"

#include "tools/common/ParseNumbers.h"

namespace anvil::serve {

const char *const kServeUsage =
    "usage: anvil-serve MODEL.anvil [options]\n"
    "\n"
    "Serves a paged decoder artifact (anvilc's default for a decoder with a\n"
    "KV cache) over HTTP with OpenAI's API: POST /v1/completions,\n"
    "POST /v1/chat/completions (streaming with stream: true), GET /v1/models,\n"
    "GET /health, GET /metrics (Prometheus), and a demo page at GET /.\n"
    "SIGINT or SIGTERM stops it gracefully. docs/serving.md has the details.\n"
    "\n"
    "network and security:\n"
    "  --host H                 address to bind (default 127.0.0.1: this\n"
    "                           machine only; 0.0.0.0 for every interface)\n"
    "  --port N                 TCP port (default 8080; 0 picks a free one)\n"
    "  --api-key KEY            require 'Authorization: Bearer KEY' on /v1/*\n"
    "                           and /metrics (default: $ANVIL_API_KEY, else\n"
    "                           no key)\n"
    "  --max-body-bytes N       largest request body (default 1048576);\n"
    "                           larger ones get 413\n"
    "  --max-queue N            requests that may wait beyond those the\n"
    "                           engine runs at once (its sequences per step);\n"
    "                           more get 429 (default 64)\n"
    "  --http-threads N         HTTP worker threads (default 0: enough for\n"
    "                           every admitted request plus 8)\n"
    "  --shutdown-timeout S     seconds in-flight requests get to finish "
    "after\n"
    "                           SIGINT/SIGTERM before they are cancelled\n"
    "                           (default 10)\n"
    "  --log-requests           one line per request on stderr\n"
    "\n"
    "model and engine:\n"
    "  --model-name NAME        the id in /v1/models (default: the file name\n"
    "                           without .anvil)\n"
    "  --threads N              threads for the model (default 0: one per\n"
    "                           hardware thread)\n"
    "  --kv-blocks N            KV pool size in blocks (default: 1 GiB of KV,\n"
    "                           at least one full context)\n"
    "  --max-tokens-per-step N  tokens per engine step (default: the\n"
    "                           artifact's --max-tokens-per-step)\n"
    "  --max-seqs-per-step N    sequences per engine step (default: the\n"
    "                           artifact's --max-seqs-per-step)\n"
    "  --no-prefix-caching      turn automatic prefix caching off\n"
    "  --no-verify              skip the artifact's section checksums\n"
    "  --require-signature PUBKEY_FILE\n"
    "                           refuse the artifact unless signed by this key\n"
    "  --help                   this text\n";

namespace {

/// Whether `flag` takes a value.
bool takesValue(const std::string &flag) {
  for (const char *name :
       {"--host", "--port", "--api-key", "--max-body-bytes", "--max-queue",
        "--http-threads", "--shutdown-timeout", "--model-name", "--threads",
        "--kv-blocks", "--max-tokens-per-step", "--max-seqs-per-step",
        "--require-signature"})
    if (flag == name)
      return true;
  return false;
}

} // namespace

bool parseServeOptions(const std::vector<std::string> &args,
                       const char *environmentApiKey, ServeOptions &out,
                       bool &help, std::string &error) {
  using anvil::tools::parseInt;
  help = false;
  bool apiKeyGiven = false;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string &a = args[i];
    if (a == "--help" || a == "-h") {
      help = true;
      return true;
    }
    if (a == "--no-prefix-caching") {
      out.model.prefixCaching = false;
      continue;
    }
    if (a == "--no-verify") {
      out.model.verifyChecksums = false;
      continue;
    }
    if (a == "--log-requests") {
      out.logRequests = true;
      continue;
    }
    if (takesValue(a)) {
      if (i + 1 >= args.size()) {
        error = a + " needs a value (anvil-serve --help)";
        return false;
      }
      const std::string &v = args[++i];
      int64_t n = 0;
      // Each number flag: its range and what to say when outside it.
      auto number = [&](int64_t min, int64_t max, const char *expected) {
        if (parseInt(v, min, max, n))
          return true;
        error = a + " " + v + ": expected " + expected;
        return false;
      };
      if (a == "--host") {
        if (v.empty()) {
          error = "--host: expected an address";
          return false;
        }
        out.host = v;
      } else if (a == "--port") {
        if (!number(0, 65535, "a port from 0 to 65535"))
          return false;
        out.port = int(n);
      } else if (a == "--api-key") {
        if (v.empty()) {
          error = "--api-key: the key is empty";
          return false;
        }
        out.apiKey = v;
        apiKeyGiven = true;
      } else if (a == "--max-body-bytes") {
        if (!number(1024, int64_t(1) << 30, "1024 to 1073741824 bytes"))
          return false;
        out.maxBodyBytes = size_t(n);
      } else if (a == "--max-queue") {
        if (!number(0, 1 << 20, "N >= 0"))
          return false;
        out.model.maxQueue = n;
      } else if (a == "--http-threads") {
        if (!number(0, 4096, "0 to 4096"))
          return false;
        out.httpThreads = int(n);
      } else if (a == "--shutdown-timeout") {
        if (!number(0, 3600, "0 to 3600 seconds"))
          return false;
        out.shutdownTimeout = int(n);
      } else if (a == "--model-name") {
        if (v.empty()) {
          error = "--model-name: the name is empty";
          return false;
        }
        out.model.name = v;
      } else if (a == "--threads") {
        if (!number(0, ANVIL_MAX_THREADS, "0 to 1024"))
          return false;
        out.model.threads = int(n);
      } else if (a == "--kv-blocks") {
        if (!number(1, int64_t(1) << 40, "N >= 1"))
          return false;
        out.model.kvBlocks = n;
      } else if (a == "--max-tokens-per-step") {
        if (!number(1, int64_t(1) << 30, "N >= 1"))
          return false;
        out.model.maxTokensPerStep = n;
      } else if (a == "--max-seqs-per-step") {
        if (!number(1, int64_t(1) << 30, "N >= 1"))
          return false;
        out.model.maxSeqsPerStep = n;
      } else if (a == "--require-signature") {
        out.model.publicKeyFile = v;
      }
      continue;
    }
    if (!a.empty() && a[0] == '-') {
      error = "unknown option '" + a + "' (anvil-serve --help)";
      return false;
    }
    if (!out.model.path.empty()) {
      error = "more than one artifact given ('" + out.model.path + "' and '" +
              a + "')";
      return false;
    }
    out.model.path = a;
  }
  if (out.model.path.empty()) {
    error = "no artifact given (anvil-serve --help)";
    return false;
  }
  if (!apiKeyGiven && environmentApiKey && *environmentApiKey)
    out.apiKey = environmentApiKey;
  return true;
}

} // namespace anvil::serve
