"""Starts anvil-serve for a test, on a free loopback port, and always stops it.

    with AnvilServe(artifact, "--max-queue", "4", deadline=120) as server:
        urllib.request.urlopen(server.url + "/health")

The server runs with --port 0 and the fixture reads the port it printed
("listening on http://127.0.0.1:PORT"), so tests running in parallel never
race for a port. Everything is bounded in time: the startup, each request
the helpers make, and the whole test (`deadline` seconds), after which a
watchdog kills the server and the test process, so a hung server fails the
test instead of hanging the suite. On exit the server gets SIGTERM, then
SIGKILL if it has not exited within 30 s; `stop()` returns its exit code.
"""
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

LISTENING = re.compile(r"listening on http://([0-9.]+):(\d+)")


class AnvilServe:
    def __init__(self, artifact, *args, deadline=300, env=None,
                 startup_timeout=60):
        self.command = ["anvil-serve", artifact, "--port", "0", *args]
        if "--threads" not in args:
            self.command += ["--threads", "1"]
        self.env = env
        self.deadline = deadline
        self.startup_timeout = startup_timeout
        self.process = None
        self.log = []
        self.url = None
        self.returncode = None
        self.signalled = False

    def __enter__(self):
        self.process = subprocess.Popen(
            self.command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
            text=True, env=self.env)
        listening = threading.Event()

        def read_log():
            for line in self.process.stderr:
                self.log.append(line)
                match = LISTENING.search(line)
                if match and not self.url:
                    self.url = f"http://{match.group(1)}:{match.group(2)}"
                    listening.set()
            listening.set()  # the server exited before listening

        threading.Thread(target=read_log, daemon=True).start()
        self.watchdog = threading.Timer(self.deadline, self._timed_out)
        self.watchdog.daemon = True
        self.watchdog.start()
        if not listening.wait(self.startup_timeout) or not self.url:
            self.stop()
            raise RuntimeError("anvil-serve did not start:\n" +
                               "".join(self.log))
        return self

    def _timed_out(self):
        sys.stderr.write(f"anvil_serve.py: the test ran past its deadline "
                         f"of {self.deadline} s; killing the server\n")
        sys.stderr.write("".join(self.log))
        self.process.kill()
        os._exit(1)

    def terminate(self):
        """Sends SIGTERM once (a second one makes the server exit at once,
        skipping its drain)."""
        if not self.signalled and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        self.signalled = True

    def stop(self, timeout=30):
        """Sends SIGTERM (unless terminate() did), waits for the server,
        and returns its exit code."""
        if self.process.poll() is None:
            self.terminate()
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
                sys.stderr.write("anvil_serve.py: the server ignored "
                                 f"SIGTERM for {timeout} s; killed\n")
        self.watchdog.cancel()
        self.returncode = self.process.returncode
        return self.returncode

    def __exit__(self, *exc):
        self.stop()
        return False

    def request(self, method, path, body=None, headers=None, timeout=60):
        """(status, parsed JSON or text) of one request; HTTP errors are
        returned, not raised."""
        data = body if isinstance(body, (bytes, type(None))) else \
            json.dumps(body).encode()
        req = urllib.request.Request(self.url + path, data=data,
                                     method=method, headers=headers or {})
        if data is not None and "Content-Type" not in (headers or {}):
            req.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(req, timeout=timeout) as response:
                status, text = response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            status, text = error.code, error.read().decode()
        try:
            return status, json.loads(text)
        except ValueError:
            return status, text

    def metrics(self, headers=None):
        """/metrics as {"name{labels}": value}."""
        status, text = self.request("GET", "/metrics", headers=headers)
        assert status == 200, (status, text)
        values = {}
        for line in text.splitlines():
            if line and not line.startswith("#"):
                name, value = line.rsplit(" ", 1)
                values[name] = float(value)
        return values


def check(condition, message):
    """An assertion that survives python -O and says what failed."""
    if not condition:
        raise AssertionError(message)
