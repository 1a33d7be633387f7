//===- Server.cpp - anvil-serve's HTTP endpoints --------------------------===//

#include "Server.h"

#include "OpenAiFormat.h"
#include "WebPage.h"

#include <cstdio>
#include <ctime>

namespace anvil::serve {
namespace {

using Json = nlohmann::json;

/// The routes, for the metrics' endpoint label; anything else is "other".
const char *endpointLabel(const std::string &path) {
  for (const char *route : {"/", "/health", "/metrics", "/v1/models",
                            "/v1/completions", "/v1/chat/completions"})
    if (path == route)
      return route;
  return "other";
}

/// Whether `path` needs the API key: the API and the metrics. The page
/// and /health stay open (load balancers probe /health without secrets;
/// the page asks for the key itself).
bool needsKey(const std::string &path) {
  return path.rfind("/v1/", 0) == 0 || path == "/metrics";
}

} // namespace

Server::Server(const ServeOptions &options, ModelService &service)
    : options(options), service(service), apiKey(options.apiKey),
      generation(service, RequestLimits()),
      created(int64_t(std::time(nullptr))) {
  int threads = options.httpThreads ? options.httpThreads
                                    : int(service.admissionLimit()) + 8;
  // Each streaming request holds a worker for its whole length: with
  // fewer workers than admitted requests, the extra connections would
  // wait in httplib's queue instead of being answered (429 included).
  http.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  http.set_payload_max_length(options.maxBodyBytes);
  routes();
}

void Server::routes() {
  // Runs after the headers, before the body is read.
  http.set_pre_routing_handler(
      [this](const httplib::Request &request, httplib::Response &response) {
        if (needsKey(request.path) &&
            !apiKey.allows(request.get_header_value("Authorization"))) {
          ApiError error;
          error.status = 401;
          error.message = "missing or wrong API key: send 'Authorization: "
                          "Bearer <key>' with the server's --api-key";
          error.code = "invalid_api_key";
          sendError(response, error);
          return httplib::Server::HandlerResponse::Handled;
        }
        // cpp-httplib 0.11 checks --max-body-bytes against Content-Length
        // only: a chunked body would be read whole, however large.
        if (request.get_header_value("Transfer-Encoding").find("chunked") !=
            std::string::npos) {
          ApiError error =
              invalidRequest("chunked request bodies are not accepted: send a "
                             "Content-Length",
                             "", "length_required");
          error.status = 411;
          sendError(response, error);
          return httplib::Server::HandlerResponse::Handled;
        }
        return httplib::Server::HandlerResponse::Unhandled;
      });

  // Refusals httplib makes itself (no route, a body over the limit, a
  // malformed request) get the same error body as ours.
  http.set_error_handler(
      [this](const httplib::Request &request, httplib::Response &response) {
        // 499: the client left and was cancelled (Generation); there is
        // nobody to send a body to.
        if (!response.body.empty() || response.status == 499)
          return;
        ApiError error;
        error.status = response.status;
        if (response.status == 404) {
          error.type = "not_found_error";
          error.message =
              "no such endpoint: " + request.method + " " + request.path;
        } else if (response.status == 413) {
          error.message = "the request body is larger than the server's limit "
                          "of " +
                          std::to_string(options.maxBodyBytes) +
                          " bytes (anvil-serve --max-body-bytes)";
          error.code = "body_too_large";
        } else if (response.status >= 500) {
          error.type = "server_error";
          error.message = "internal error";
        } else {
          error.message = "malformed HTTP request";
        }
        sendError(response, error);
      });

  http.set_logger([this](const httplib::Request &request,
                         const httplib::Response &response) {
    service.metrics().countResponse(endpointLabel(request.path),
                                    response.status);
    if (options.logRequests)
      std::fprintf(stderr, "anvil-serve: %s %s %d\n", request.method.c_str(),
                   request.path.c_str(), response.status);
  });

  http.Get("/", [](const httplib::Request &, httplib::Response &response) {
    response.set_content(kIndexHtml, kIndexHtmlSize,
                         "text/html; charset=utf-8");
  });
  http.Get("/health",
           [this](const httplib::Request &, httplib::Response &response) {
             bool stopping = service.shuttingDown();
             response.status = stopping ? 503 : 200;
             response.set_content(
                 jsonBody({{"status", stopping ? "shutting_down" : "ok"}}),
                 "application/json");
           });
  http.Get("/metrics",
           [this](const httplib::Request &, httplib::Response &response) {
             response.set_content(
                 service.metrics().render(service.stats(), service.inFlight()),
                 "text/plain; version=0.0.4; charset=utf-8");
           });
  http.Get("/v1/models",
           [this](const httplib::Request &, httplib::Response &response) {
             Json model{{"id", service.id()},
                        {"object", "model"},
                        {"created", created},
                        {"owned_by", "anvil"},
                        {"max_model_len", service.maxContext()}};
             response.set_content(
                 jsonBody({{"object", "list"}, {"data", Json::array({model})}}),
                 "application/json");
           });
  http.Post("/v1/completions", [this](const httplib::Request &request,
                                      httplib::Response &response) {
    generation.handle(request, response, Endpoint::Completions);
  });
  http.Post("/v1/chat/completions", [this](const httplib::Request &request,
                                           httplib::Response &response) {
    generation.handle(request, response, Endpoint::ChatCompletions);
  });
}

int Server::bind(std::string &error) {
  int port =
      options.port == 0
          ? http.bind_to_any_port(options.host)
          : (http.bind_to_port(options.host, options.port) ? options.port : -1);
  if (port < 0)
    error = "cannot listen on " + options.host + ":" +
            std::to_string(options.port) +
            " (in use, or not an address of this machine)";
  return port;
}

bool Server::serve() { return http.listen_after_bind(); }

void Server::drainAndStop(int timeoutSeconds) {
  service.beginShutdown();
  if (!service.waitIdle(Clock::now() + std::chrono::seconds(timeoutSeconds))) {
    std::fprintf(stderr,
                 "anvil-serve: cancelling %lld requests still running\n",
                 (long long)service.inFlight());
    service.cancelAll();
    // A cancel takes effect at the engine's next step.
    service.waitIdle(Clock::now() + std::chrono::seconds(10));
  }
  http.stop();
}

} // namespace anvil::serve
