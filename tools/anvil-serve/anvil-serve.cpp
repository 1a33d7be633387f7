//===- anvil-serve.cpp - an OpenAI-compatible server for artifacts --------===//
//
//   anvil-serve MODEL.anvil [--host H] [--port N] [--api-key KEY] ...
//
// Loads the artifact and starts its engine (ModelService), binds the port,
// prints where it listens, and serves (Server) until SIGINT or SIGTERM,
// then drains: new requests get 503, in-flight ones get
// --shutdown-timeout seconds, the rest are cancelled, and it exits 0. A
// second signal exits at once. docs/serving.md.
//
//===----------------------------------------------------------------------===//

#include "ModelService.h"
#include "Options.h"
#include "Server.h"

#include <atomic>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <pthread.h>
#include <thread>

using namespace anvil::serve;

namespace {

int fail(const std::string &message) {
  std::cerr << "anvil-serve: error: " << message << "\n";
  return 1;
}

} // namespace

int main(int argc, char **argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  ServeOptions options;
  bool help = false;
  std::string error;
  if (!parseServeOptions(args, std::getenv("ANVIL_API_KEY"), options, help,
                         error))
    return fail(error);
  if (help) {
    std::cout << kServeUsage;
    return 0;
  }

  // Signals go to one thread that waits for them (sigwait), not to
  // handlers that interrupt arbitrary code: blocked here, before any
  // thread starts, so every thread inherits the mask.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  // A client that closes its socket must not kill the server.
  std::signal(SIGPIPE, SIG_IGN);

  std::fprintf(stderr, "anvil-serve: loading %s\n", options.model.path.c_str());
  std::unique_ptr<ModelService> service;
  if (!ModelService::open(options.model, service, error))
    return fail(error);
  std::fprintf(stderr,
               "anvil-serve: model '%s': context %lld tokens, vocabulary "
               "%lld, %s, KV pool of %lld blocks; up to %lld requests in "
               "flight\n",
               service->id().c_str(), (long long)service->maxContext(),
               (long long)service->vocabSize(),
               service->hasTokenizer() ? "tokenizer embedded"
                                       : "no tokenizer (token ids only)",
               (long long)service->stats().kv_blocks_total,
               (long long)service->admissionLimit());

  Server server(options, *service);
  int port = server.bind(error);
  if (port < 0)
    return fail(error);
  std::fprintf(stderr, "anvil-serve: listening on http://%s:%d%s\n",
               options.host.c_str(), port,
               options.apiKey.empty() ? "" : " (API key required)");
  std::fflush(stderr);

  std::atomic<bool> done{false};
  std::thread signalThread([&] {
    int signal = 0;
    timespec poll{0, 200 * 1000 * 1000};
    // Waits in slices so that the thread also ends when serve() fails.
    while (!done) {
      siginfo_t info;
      signal = sigtimedwait(&signals, &info, &poll);
      if (signal > 0)
        break;
    }
    if (done)
      return;
    std::fprintf(stderr, "anvil-serve: %s: shutting down\n",
                 signal == SIGINT ? "SIGINT" : "SIGTERM");
    std::thread([&] {
      // A second signal while draining: exit now.
      int again = 0;
      sigwait(&signals, &again);
      std::fprintf(stderr, "anvil-serve: second signal: exiting now\n");
      std::_Exit(1);
    }).detach();
    server.drainAndStop(options.shutdownTimeout);
  });

  bool served = server.serve();
  done = true;
  signalThread.join();
  if (!served)
    return fail("the listener failed");
  // Stops the engine's thread before the model goes.
  service.reset();
  std::fprintf(stderr, "anvil-serve: stopped\n");
  return 0;
}
