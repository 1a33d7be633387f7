"""anvil-serve's graceful shutdown. With --shutdown-timeout 60, SIGTERM
lets a running stream finish while new requests get 503, then exits 0.
With --shutdown-timeout 0 the running stream is cancelled at once: it
ends with finish_reason "cancelled" and [DONE], and the server exits 0.

    serve_shutdown.py ARTIFACT
"""
import http.client
import json
import os
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "lib"))
from anvil_serve import AnvilServe, check  # noqa: E402

artifact = sys.argv[1]


def start_stream(server, max_tokens):
    """Starts a streamed request (EOS ignored, so it runs max_tokens) and
    returns a function that reads it to its end: (finish_reason, [DONE]?)."""
    connection = http.client.HTTPConnection(server.url[len("http://"):],
                                            timeout=120)
    connection.request("POST", "/v1/completions", json.dumps(
        {"prompt": "def main():", "max_tokens": max_tokens,
         "ignore_eos": True, "stream": True}),
        {"Content-Type": "application/json"})
    response = connection.getresponse()
    check(response.status == 200, f"status {response.status}")
    check(response.readline().startswith(b"data: {"), "no first chunk")

    def finish():
        reason, done = None, False
        for line in response:
            data = line[len(b"data: "):].strip()
            if data == b"[DONE]":
                done = True
            elif line.startswith(b"data: "):
                reason = json.loads(data)["choices"][0]["finish_reason"] \
                    or reason
        connection.close()
        return reason, done
    return finish


# Drain: the stream (which reads on) finishes; a request during the
# drain gets 503.
with AnvilServe(artifact, "--shutdown-timeout", "60", deadline=180) as server:
    finish = start_stream(server, 1000)
    result = {}
    reader = threading.Thread(target=lambda: result.update(r=finish()))
    reader.start()
    server.terminate()
    # The signal is handled on the server's own time: wait (bounded) until
    # /health says it drains, so the request below cannot slip in before.
    end = time.monotonic() + 30
    while server.request("GET", "/health")[0] != 503:
        check(time.monotonic() < end, "/health not 503 after SIGTERM")
        time.sleep(0.01)
    # 1000 tokens take far longer than this on loopback.
    status, answer = server.request("POST", "/v1/completions",
                                    {"prompt": "x", "max_tokens": 1})
    check(status == 503 and answer["error"]["code"] == "shutting_down",
          f"during the drain: {status} {answer}")
    print("during the drain: 503 shutting_down")
    reader.join()
    check(result["r"] == ("length", True), f"the stream ended {result}")
    print("the running stream finished: length, [DONE]")
print(f"exit {server.returncode}")

# No grace: the running stream is cancelled, and a running request that
# does not stream gets 503.
with AnvilServe(artifact, "--shutdown-timeout", "0", deadline=180) as server:
    finish = start_stream(server, 1000)
    plain = {}
    waiting = threading.Thread(target=lambda: plain.update(r=server.request(
        "POST", "/v1/completions", {"prompt": "def f():", "max_tokens": 1000,
                                    "ignore_eos": True})))
    waiting.start()
    # Signal only once the engine holds both requests.
    while server.metrics()["anvil_serve_requests_in_flight"] < 2:
        time.sleep(0.02)
    server.terminate()
    reason = finish()
    check(reason == ("cancelled", True), f"the stream ended {reason}")
    print("the running stream was cancelled: cancelled, [DONE]")
    waiting.join()
    status, answer = plain["r"]
    check(status == 503 and answer["error"]["code"] == "shutting_down",
          f"the plain request: {status} {answer}")
    print("the running plain request: 503 shutting_down")
print(f"exit {server.returncode}")
