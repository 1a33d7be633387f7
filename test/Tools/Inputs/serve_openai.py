"""anvil-serve against the official openai client: completions and chat,
streaming and not, stop strings, seeds, logprobs, n, usage, errors.

    serve_openai.py ARTIFACT REFERENCE_JSON

REFERENCE_JSON is `anvil-run generate --json` for the same greedy request
(prompt ids 474,2835,858,199, 9 new tokens): the server must give the
same text. Prints one line per check; any failure raises.
"""
import json
import os
import sys

import openai

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "lib"))
from anvil_serve import AnvilServe, check  # noqa: E402

artifact, reference_path = sys.argv[1:3]
with open(reference_path) as f:
    reference = json.load(f)
PROMPT_IDS = [474, 2835, 858, 199]  # "def main():\n"

with AnvilServe(artifact, "--api-key", "sk-test", deadline=240) as server:
    client = openai.OpenAI(base_url=server.url + "/v1", api_key="sk-test",
                           timeout=120, max_retries=0)

    models = client.models.list().data
    check([m.id for m in models] == ["m"], f"models: {models}")
    print("models: m")

    # Greedy, not streamed: the text anvil-run generate gives.
    done = client.completions.create(model="m", prompt=PROMPT_IDS,
                                     max_tokens=9, temperature=0)
    choice = done.choices[0]
    check(choice.text == reference["text"],
          f"text {choice.text!r} != anvil-run's {reference['text']!r}")
    check(choice.finish_reason == "length", choice.finish_reason)
    check(done.usage.prompt_tokens == 4 and
          done.usage.completion_tokens == 9 and
          done.usage.total_tokens == 13, f"usage {done.usage}")
    check(done.object == "text_completion" and done.id.startswith("cmpl-"),
          f"envelope {done.object} {done.id}")
    print("completion matches anvil-run generate:", json.dumps(choice.text))

    # The same streamed: the chunks concatenate to the same text.
    chunks = list(client.completions.create(
        model="m", prompt=PROMPT_IDS, max_tokens=9, temperature=0,
        stream=True, stream_options={"include_usage": True}))
    text = "".join(c.choices[0].text for c in chunks if c.choices)
    finishes = [c.choices[0].finish_reason for c in chunks if c.choices]
    check(text == reference["text"], f"streamed {text!r}")
    check(finishes[-1] == "length" and
          all(f is None for f in finishes[:-1]), f"finishes {finishes}")
    check(chunks[-1].usage is not None and
          chunks[-1].usage.completion_tokens == 9, f"usage {chunks[-1]}")
    print(f"streamed completion: {len(finishes)} chunks, same text, usage last")

    # A text prompt is tokenized as anvil-run's --prompt is.
    textual = client.completions.create(model="m", prompt="def main():\n",
                                        max_tokens=9, temperature=0)
    check(textual.choices[0].text == reference["text"] and
          textual.usage.prompt_tokens == 4, f"text prompt {textual}")
    print("text prompt: same tokens")

    # Stop strings: neither the stop string nor what follows is sent
    # (test/Tools/anvil-run-generate.test has the same request).
    for stream in (False, True):
        response = client.completions.create(
            model="m", prompt=PROMPT_IDS, max_tokens=32, temperature=0,
            stop=["import"], stream=stream)
        if stream:
            parts = list(response)
            text = "".join(c.choices[0].text for c in parts)
            finish = parts[-1].choices[0].finish_reason
        else:
            text, finish = response.choices[0].text, \
                response.choices[0].finish_reason
        check(text == "\nclass _bootstrap_external " and finish == "stop",
              f"stop (stream={stream}): {text!r} {finish}")
    print("stop string: '\\nclass _bootstrap_external ', finish stop")

    # Seeds: the same seed draws the same tokens, another seed others.
    def sampled(seed):
        return client.completions.create(
            model="m", prompt="def main():", max_tokens=24, temperature=1,
            seed=seed).choices[0].text
    a, b, c = sampled(7), sampled(7), sampled(8)
    check(a == b, f"seed 7 twice: {a!r} != {b!r}")
    check(a != c, f"seeds 7 and 8 gave the same text {a!r}")
    print("seed 7 reproduces, seed 8 differs")

    # n choices: each its own draw, reproducible with the seed.
    many = client.completions.create(model="m", prompt="def main():",
                                     max_tokens=16, temperature=1, seed=3, n=3)
    check([ch.index for ch in many.choices] == [0, 1, 2], f"n: {many}")
    check(len({ch.text for ch in many.choices}) > 1, f"n=3 all alike {many}")
    again = client.completions.create(model="m", prompt="def main():",
                                      max_tokens=16, temperature=1, seed=3, n=3)
    check([ch.text for ch in many.choices] ==
          [ch.text for ch in again.choices], "n=3 with a seed differs")
    print("n=3: three different choices, reproducible")

    # Completions logprobs: 5 tokens, 3 alternatives each; greedy picks
    # the most likely, so its logprob is the top one.
    lp = client.completions.create(model="m", prompt=PROMPT_IDS, max_tokens=5,
                                   temperature=0, logprobs=3).choices[0].logprobs
    check(len(lp.tokens) == len(lp.token_logprobs) == len(lp.top_logprobs)
          == len(lp.text_offset) == 5, f"logprobs lengths {lp}")
    for value, top in zip(lp.token_logprobs, lp.top_logprobs):
        check(value <= 0 and 1 <= len(top) <= 3, f"logprob {value} {top}")
        check(abs(value - max(top.values())) < 1e-4, f"not the top: {lp}")
    check("".join(lp.tokens) == reference["text"][:len("".join(lp.tokens))],
          f"tokens {lp.tokens}")
    print("completion logprobs: 5 x (token, logprob, top 3, offset)")

    # Chat: the plain template, so the same as completing its rendering.
    messages = [{"role": "system", "content": "You write Python."},
                {"role": "user", "content": "def add(a, b):"}]
    rendered = "system: You write Python.\nuser: def add(a, b):\nassistant:"
    chat = client.chat.completions.create(model="m", messages=messages,
                                          max_tokens=12, temperature=0,
                                          logprobs=True, top_logprobs=2)
    plain = client.completions.create(model="m", prompt=rendered,
                                      max_tokens=12, temperature=0)
    message = chat.choices[0].message
    check(message.role == "assistant" and
          message.content == plain.choices[0].text,
          f"chat {message.content!r} != completion {plain.choices[0].text!r}")
    check(chat.object == "chat.completion" and
          chat.usage.prompt_tokens == plain.usage.prompt_tokens, f"{chat}")
    content = chat.choices[0].logprobs.content
    check(len(content) == chat.usage.completion_tokens and
          all(len(t.top_logprobs) == 2 and t.logprob <= 0 and
              t.bytes == list(t.token.encode()) for t in content),
          f"chat logprobs {content}")
    print("chat: the plain template's completion, logprobs with top 2")

    stream = client.chat.completions.create(model="m", messages=messages,
                                            max_tokens=12, temperature=0,
                                            stream=True)
    deltas = [c.choices[0].delta for c in stream]
    check(deltas[0].role == "assistant", f"first delta {deltas[0]}")
    text = "".join(d.content or "" for d in deltas)
    check(text == message.content, f"streamed chat {text!r}")
    print("streamed chat: role first, same text")

    # Errors come back as the client's exceptions.
    try:
        client.completions.create(model="m", prompt="x", max_tokens=-1)
        check(False, "max_tokens -1 accepted")
    except openai.BadRequestError as e:
        check(e.status_code == 400 and e.body["param"] == "max_tokens",
              f"{e.body}")
    try:
        client.completions.create(model="other", prompt="x")
        check(False, "another model accepted")
    except openai.NotFoundError as e:
        check(e.body["code"] == "model_not_found", f"{e.body}")
    wrong = openai.OpenAI(base_url=server.url + "/v1", api_key="sk-wrong",
                          max_retries=0)
    try:
        wrong.models.list()
        check(False, "a wrong key was accepted")
    except openai.AuthenticationError as e:
        check(e.status_code == 401, f"{e}")
    print("errors: BadRequestError, NotFoundError, AuthenticationError")

code = server.returncode
check(code == 0, f"anvil-serve exited with {code} after SIGTERM")
print("SIGTERM: exit 0")
