"""The `openai` package, unchanged, streaming through the gateway.

Driven by gateway/tests/run_token_usage.rs. Makes two streamed
`client.chat.completions.create` calls and prints one line of JSON:

- `plain`: a stream that does not ask for usage (the gateway asks for it
  upstream and must take the usage chunk out): its content, chunk count,
  whether any chunk carried `usage` or had no `choices`, and the seconds to
  the first chunk and to the end;
- `with_usage`: a stream with `stream_options={"include_usage": True}`:
  its content and the usage of its last chunk.

Usage: openai_stream_usage.py BASE_URL SUBSCRIPTION_KEY
"""

import json
import sys
import time

import openai


def read(stream):
    parts, chunks, usage, empty, first = [], 0, None, 0, None
    start = time.monotonic()
    for chunk in stream:
        if first is None:
            first = time.monotonic() - start
        assert chunk.object == "chat.completion.chunk", chunk
        chunks += 1
        if not chunk.choices:
            empty += 1
        for choice in chunk.choices:
            parts.append(choice.delta.content or "")
        if chunk.usage is not None:
            usage = chunk.usage.model_dump()
    return {
        "content": "".join(parts),
        "chunks": chunks,
        "usage": usage,
        "empty_choices": empty,
        "first_s": first,
        "total_s": time.monotonic() - start,
    }


def main():
    base_url, key = sys.argv[1], sys.argv[2]
    client = openai.OpenAI(
        base_url=base_url,
        api_key="sk-not-checked",
        default_headers={"Ocp-Apim-Subscription-Key": key},
        max_retries=0,
        timeout=20.0,
    )
    messages = [{"role": "user", "content": "What is the capital of France?"}]
    report = {"openai": openai.__version__}
    try:
        report["plain"] = read(
            client.chat.completions.create(model="gpt-4o", messages=messages, stream=True)
        )
        report["with_usage"] = read(
            client.chat.completions.create(
                model="gpt-4o",
                messages=messages,
                stream=True,
                stream_options={"include_usage": True},
            )
        )
    except Exception as e:  # reported to the test, which fails with it
        report["error"] = f"{type(e).__name__}: {e}"
    print(json.dumps(report), flush=True)


if __name__ == "__main__":
    main()
