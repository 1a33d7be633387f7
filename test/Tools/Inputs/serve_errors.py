"""anvil-serve refuses bad input with the right status and an OpenAI-style
error body, and keeps serving: malformed JSON, a body over the limit,
wrong types, out-of-range values, a wrong or missing API key, a prompt
longer than the context, a full queue (429), another model, an unknown
path. A client that disconnects, mid-stream or while it waits for a
non-streaming answer, has its request cancelled.

    serve_errors.py ARTIFACT
"""
import http.client
import json
import os
import socket
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "lib"))
from anvil_serve import AnvilServe, check  # noqa: E402

artifact = sys.argv[1]
KEY = {"Authorization": "Bearer sk-test"}


def expect(server, method, path, body, status, param=None, code=None,
           headers=KEY, error_type=None):
    got, answer = server.request(method, path, body, headers=headers)
    check(got == status, f"{method} {path} {str(body)[:80]}: status {got} "
          f"(expected {status}): {answer}")
    error = answer.get("error") if isinstance(answer, dict) else None
    check(isinstance(error, dict) and isinstance(error.get("message"), str)
          and error["message"] and "type" in error and "param" in error
          and "code" in error, f"no OpenAI error body: {answer}")
    if param is not None:
        check(error["param"] == param, f"param {error['param']} != {param}")
    if code is not None:
        check(error["code"] == code, f"code {error['code']} != {code}")
    if error_type is not None:
        check(error["type"] == error_type, f"type {error['type']}")
    print(f"{status} {error['type']} {error['param']}: {error['message']}")


def serves(server):
    status, answer = server.request(
        "POST", "/v1/completions",
        {"prompt": "def f():", "max_tokens": 2, "temperature": 0},
        headers=KEY)
    check(status == 200 and answer["choices"][0]["finish_reason"] == "length",
          f"the server stopped serving: {status} {answer}")


def wait_for(condition, what, timeout=60):
    """Polls `condition` (the engine acts on its own thread); fails after
    `timeout` seconds, which only a hung server takes."""
    end = time.monotonic() + timeout
    while not condition():
        check(time.monotonic() < end, f"{what}: not after {timeout} s")
        time.sleep(0.05)


# One sequence per step and no queue: a second request is refused while
# one runs (429).
with AnvilServe(artifact, "--api-key", "sk-test", "--max-body-bytes", "65536",
                "--max-seqs-per-step", "1", "--max-queue", "0",
                deadline=240) as server:
    C, CHAT = "/v1/completions", "/v1/chat/completions"
    expect(server, "POST", C, b"{\"prompt\": ", 400)
    expect(server, "POST", C, b"not json at all", 400)
    expect(server, "POST", C, b"[1, 2, 3]", 400)
    expect(server, "POST", C, b"{\"prompt\": \"x\", \"n\": " + b"[" * 5000 +
           b"]" * 5000 + b"}", 400)
    expect(server, "POST", C, b"{\"prompt\": \"" + b"a" * 100000 + b"\"}",
           413, code="body_too_large")
    # A chunked body would escape the length check: refused before reading.
    chunked = http.client.HTTPConnection(server.url[len("http://"):],
                                         timeout=60)
    chunked.request("POST", C, iter([b"{\"prompt\": \"", b"a" * 100000,
                                     b"\"}"]),
                    headers={**KEY, "Content-Type": "application/json"},
                    encode_chunked=True)
    answer = chunked.getresponse()
    error = json.loads(answer.read())["error"]
    check(answer.status == 411 and error["code"] == "length_required",
          f"chunked: {answer.status} {error}")
    chunked.close()
    print(f"411 {error['type']}: {error['message']}")
    expect(server, "POST", C, {"prompt": "x", "max_tokens": -1}, 400,
           param="max_tokens")
    expect(server, "POST", C, {"prompt": "x", "max_tokens": "9"}, 400,
           param="max_tokens")
    expect(server, "POST", C, {"prompt": "x", "temperature": "hot"}, 400,
           param="temperature")
    expect(server, "POST", C, {"prompt": "x", "top_p": 0}, 400, param="top_p")
    expect(server, "POST", C, {"prompt": "x", "stop": 5}, 400, param="stop")
    expect(server, "POST", C, {"prompt": "x", "n": 0}, 400, param="n")
    expect(server, "POST", C, {"prompt": "x", "logprobs": 99}, 400,
           param="logprobs")
    expect(server, "POST", C, {"max_tokens": 3}, 400, param="prompt")
    expect(server, "POST", C, {"prompt": [1, 4096]}, 400)  # vocabulary 4096
    expect(server, "POST", CHAT, {"messages": "hi"}, 400, param="messages")
    expect(server, "POST", CHAT, {"messages": [{"role": "user"}],
                                  "top_logprobs": 2}, 400,
           param="top_logprobs")
    # The context is 1024 tokens: a prompt of 1200, and a prompt that
    # fits with max_tokens that does not.
    expect(server, "POST", C, {"prompt": "def main():\n" * 300}, 400,
           param="prompt", code="context_length_exceeded")
    expect(server, "POST", C, {"prompt": [1] * 1024}, 400, param="prompt",
           code="context_length_exceeded")
    expect(server, "POST", C, {"prompt": [1] * 10, "max_tokens": 1020}, 400,
           param="max_tokens", code="context_length_exceeded")
    expect(server, "POST", CHAT, {"messages": [
        {"role": "user", "content": "def main():\n" * 300}]}, 400,
        param="messages", code="context_length_exceeded")
    # The key: missing, wrong, or not a Bearer header; /health needs none.
    expect(server, "POST", C, {"prompt": "x"}, 401, headers={},
           code="invalid_api_key")
    expect(server, "GET", "/v1/models", None, 401,
           headers={"Authorization": "Bearer sk-tes"})
    expect(server, "GET", "/metrics", None, 401,
           headers={"Authorization": "sk-test"})
    status, health = server.request("GET", "/health")
    check(status == 200 and health == {"status": "ok"}, f"health {health}")
    expect(server, "POST", C, {"model": "gpt-4", "prompt": "x"}, 404,
           param="model", code="model_not_found")
    expect(server, "GET", "/v1/nothing", None, 404,
           error_type="not_found_error")
    expect(server, "GET", C, None, 404)
    # Unknown fields are ignored.
    status, _ = server.request("POST", C, {"prompt": "x", "max_tokens": 1,
                                           "frobnicate": {"a": [1]}},
                               headers=KEY)
    check(status == 200, f"an unknown field was refused: {status}")
    serves(server)
    print("still serving after every refusal")

    # A long stream holds the only slot: the next request gets 429. Its
    # client then disconnects mid-stream: the request is cancelled and
    # its KV blocks freed, and the slot serves again.
    connection = http.client.HTTPConnection(server.url[len("http://"):],
                                            timeout=60)
    connection.request("POST", C, json.dumps(
        {"prompt": "def main():", "max_tokens": 1000, "ignore_eos": True,
         "stream": True}), headers={**KEY, "Content-Type":
                                    "application/json"})
    stream = connection.getresponse()
    check(stream.status == 200, f"stream status {stream.status}")
    first = stream.readline()
    check(first.startswith(b"data: {"), f"first line {first!r}")
    expect(server, "POST", C, {"prompt": "x"}, 429, code="queue_full",
           error_type="rate_limit_error")
    metrics = server.metrics(headers=KEY)
    check(metrics["anvil_serve_requests_in_flight"] == 1 and
          metrics['anvil_serve_kv_blocks{state="used"}'] > 0,
          f"while streaming: {metrics}")
    connection.sock.shutdown(2)
    connection.close()
    wait_for(lambda: server.metrics(headers=KEY)
             ["anvil_serve_requests_in_flight"] == 0,
             "the disconnected stream's request to end")
    metrics = server.metrics(headers=KEY)
    check(metrics['anvil_serve_requests_finished_total{reason="cancelled"}']
          == 1, "the disconnected request was not cancelled")
    check(metrics['anvil_serve_kv_blocks{state="used"}'] == 0,
          f"KV blocks still used: {metrics}")
    check(metrics['anvil_serve_generation_tokens_total'] < 1000,
          "the disconnected request ran to its end")
    print("429 while the slot is busy; a disconnect cancels, 0 KV blocks "
          "used")
    serves(server)

    # A non-streaming client that leaves before its answer: its request
    # is cancelled (not run to max_tokens) and its KV blocks freed, and
    # the server goes on serving.
    before = server.metrics(headers=KEY)
    host, port = server.url[len("http://"):].split(":")
    body = json.dumps({"prompt": "def main():", "max_tokens": 1000,
                       "ignore_eos": True}).encode()
    raw = socket.create_connection((host, int(port)), timeout=60)
    raw.sendall(b"POST /v1/completions HTTP/1.1\r\nHost: x\r\n"
                b"Authorization: Bearer sk-test\r\n"
                b"Content-Type: application/json\r\n"
                b"Content-Length: " + str(len(body)).encode() +
                b"\r\n\r\n" + body)
    wait_for(lambda: server.metrics(headers=KEY)
             ["anvil_serve_requests_in_flight"] == 1,
             "the non-streaming request to start", timeout=30)
    # Close at once: 1000 tokens take about a second on this project's
    # 2-core machine, and the server notices a close within its 100 ms poll.
    time.sleep(0.05)
    raw.close()
    cancelled = 'anvil_serve_requests_finished_total{reason="cancelled"}'

    def freed():
        now = server.metrics(headers=KEY)
        return (now["anvil_serve_requests_in_flight"] == 0 and
                now['anvil_serve_kv_blocks{state="used"}'] == 0)
    wait_for(freed, "the disconnected request to end and free its blocks")
    metrics = server.metrics(headers=KEY)
    check(metrics[cancelled] == before[cancelled] + 1,
          "the disconnected non-streaming request was not cancelled: "
          f"{metrics}")
    generated = (metrics["anvil_serve_generation_tokens_total"] -
                 before["anvil_serve_generation_tokens_total"])
    check(generated < 1000, "the disconnected non-streaming request ran to "
          f"its end ({generated} tokens)")
    check(metrics['anvil_serve_http_responses_total{endpoint='
                  '"/v1/completions",code="499"}'] == 1,
          "the cancelled request is not logged as 499")
    print("a non-streaming client that disconnects is cancelled, 0 KV "
          "blocks used")
    serves(server)
    counts = server.metrics(headers=KEY)
    check(counts['anvil_serve_http_responses_total{endpoint="/v1/completions"'
                 ',code="429"}'] == 1 and
          counts['anvil_serve_http_responses_total{endpoint="/v1/completions"'
                 ',code="413"}'] == 1, "responses by code")
    print("metrics count the responses by code")
print(f"exit {server.returncode}")
