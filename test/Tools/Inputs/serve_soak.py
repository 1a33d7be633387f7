"""A bounded soak of anvil-serve: CLIENTS threads send requests for
SECONDS (streamed, streamed and dropped mid-stream, not streamed, chat)
to a server with a small queue and a KV pool small enough to preempt.
Every request must complete, be cancelled (its client left), or get 429;
none may be lost or fail; afterwards the metrics show no request in
flight and no KV block in use, and the server still serves.

    serve_soak.py ARTIFACT [CLIENTS] [SECONDS]
"""
import http.client
import json
import os
import random
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "lib"))
from anvil_serve import AnvilServe, check  # noqa: E402

artifact = sys.argv[1]
clients = int(sys.argv[2]) if len(sys.argv) > 2 else 16
seconds = float(sys.argv[3]) if len(sys.argv) > 3 else 20
PROMPTS = ["def fibonacci(n):\n", "import os\n", "class Stack:\n    def ",
           "for i in range(10):", "# A small parser\n", "x = [", "def main():"]

lock = threading.Lock()
counts = {"completed": 0, "disconnected": 0, "rejected": 0}
failures = []


def record(kind, problem=None):
    with lock:
        if problem:
            failures.append(problem)
        else:
            counts[kind] += 1


def one_request(host, rng):
    chat = rng.random() < 0.25
    stream = rng.random() < 0.7
    drop_after = rng.randint(1, 6) if stream and rng.random() < 0.3 else None
    max_tokens = rng.randint(1, 64)
    body = {"max_tokens": max_tokens, "stream": stream,
            "temperature": rng.choice([0, 0.8]), "seed": rng.randint(0, 99)}
    if chat:
        body["messages"] = [{"role": "user", "content": rng.choice(PROMPTS)}]
        path = "/v1/chat/completions"
    else:
        body["prompt"] = rng.choice(PROMPTS)
        path = "/v1/completions"
    connection = http.client.HTTPConnection(host, timeout=120)
    try:
        connection.request("POST", path, json.dumps(body),
                           {"Content-Type": "application/json"})
        response = connection.getresponse()
        if response.status == 429:
            error = json.loads(response.read())["error"]
            if error["type"] != "rate_limit_error":
                return record(None, f"429 body {error}")
            record("rejected")
            # Back off as a client would, rather than spin.
            return time.sleep(rng.uniform(0.01, 0.05))
        if response.status != 200:
            return record(None, f"{path} {body}: status {response.status} "
                                f"{response.read()[:300]!r}")
        if not stream:
            answer = json.loads(response.read())
            finish = answer["choices"][0]["finish_reason"]
            used = answer["usage"]["completion_tokens"]
            if finish not in ("stop", "length") or used > max_tokens:
                return record(None, f"{body}: {answer}")
            return record("completed")
        finish, lines = None, 0
        while True:
            line = response.readline()
            if not line:
                return record(None, f"{body}: the stream ended without "
                                    "[DONE]")
            if not line.startswith(b"data: "):
                continue
            lines += 1
            if drop_after is not None and lines >= drop_after:
                # Leave mid-stream: the server must cancel the request.
                connection.sock.shutdown(2)
                return record("disconnected")
            data = line[len(b"data: "):].strip()
            if data == b"[DONE]":
                break
            chunk = json.loads(data)
            if "error" in chunk:
                return record(None, f"{body}: {chunk}")
            if chunk["choices"][0]["finish_reason"]:
                finish = chunk["choices"][0]["finish_reason"]
        if finish not in ("stop", "length"):
            return record(None, f"{body}: finished {finish}")
        record("completed")
    except (OSError, http.client.HTTPException, ValueError, KeyError) as e:
        record(None, f"{path} {body}: {type(e).__name__}: {e}")
    finally:
        connection.close()


def client(host, seed, end):
    rng = random.Random(seed)
    while time.monotonic() < end:
        one_request(host, rng)


# 4 sequences per step and 4 waiting: 16 clients overflow the queue. 8
# KV blocks of 16 positions hold one long request, or a few short ones:
# growing requests preempt each other.
with AnvilServe(artifact, "--max-seqs-per-step", "4", "--max-queue", "4",
                "--kv-blocks", "8", deadline=seconds + 240) as server:
    host = server.url[len("http://"):]
    end = time.monotonic() + seconds
    threads = [threading.Thread(target=client, args=(host, seed, end))
               for seed in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    print(f"{clients} clients for {seconds:g} s: {counts['completed']} "
          f"completed, {counts['disconnected']} disconnected, "
          f"{counts['rejected']} got 429", file=sys.stderr)
    check(not failures, "failed requests:\n" + "\n".join(failures[:20]))
    check(counts["completed"] > 0, "nothing completed")

    # The engine finishes what the disconnected clients left on its own
    # thread; a hung server fails the fixture's deadline.
    while server.metrics()["anvil_serve_requests_in_flight"]:
        time.sleep(0.1)
    m = server.metrics()
    finished = {reason: m.get(
        f'anvil_serve_requests_finished_total{{reason="{reason}"}}', 0)
        for reason in ("stop", "length", "cancelled", "error")}
    accepted = counts["completed"] + counts["disconnected"]
    check(sum(finished.values()) == accepted,
          f"{accepted} requests accepted, {finished} finished")
    check(finished["error"] == 0, f"failed requests: {finished}")
    check(finished["cancelled"] <= counts["disconnected"],
          f"cancelled without a disconnect: {finished}")
    check(m['anvil_serve_kv_blocks{state="used"}'] == 0,
          f"leaked KV blocks: {m}")
    check(m["anvil_serve_queue_depth"] == 0 and
          m["anvil_serve_requests_running"] == 0, f"requests left: {m}")
    print("every request completed, was cancelled or got 429")
    print("no request in flight, no KV block used")
    print(f"preemptions: {int(m['anvil_serve_preemptions_total'])}",
          file=sys.stderr)
    status, _ = server.request("POST", "/v1/completions",
                               {"prompt": "x", "max_tokens": 2})
    check(status == 200, f"not serving after the soak: {status}")
    print("still serving")
print(f"exit {server.returncode}")
