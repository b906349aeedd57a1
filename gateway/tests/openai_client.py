"""The `openai` package, unchanged, as a client of the gateway.

Driven by gateway/tests/run_semantic_cache.rs, one call at a time: each line
on standard input is a JSON object

    {"key": SUBSCRIPTION_KEY, "prompt": TEXT, "stream": BOOL}

and for each the script makes one `client.chat.completions.create` call
(through `with_raw_response`, to see the response headers) and prints one
line of JSON: the answer's content (for a stream, the content deltas of the
`chat.completion.chunk` events joined), the number of chunks, the status,
and the gateway's cache status header and partition. A call that fails is
reported as {"error": ...}, never raised. Ends at the end of its input.

Usage: openai_client.py BASE_URL STATUS_HEADER
"""

import json
import sys

import openai


def call(clients, base_url, status_header, step):
    key = step["key"]
    if key not in clients:
        clients[key] = openai.OpenAI(
            base_url=base_url,
            api_key="sk-not-checked",
            default_headers={"Ocp-Apim-Subscription-Key": key},
            # One call is one request: no retry may hide a failure or add
            # a backend call.
            max_retries=0,
            timeout=20.0,
        )
    client = clients[key]
    messages = [{"role": "user", "content": step["prompt"]}]
    raw = client.chat.completions.with_raw_response.create(
        model="gpt-4o", messages=messages, stream=step["stream"]
    )
    report = {
        "status": raw.status_code,
        "cache": raw.headers.get(status_header),
        "partition": raw.headers.get(status_header + "-partition"),
        "content_type": raw.headers.get("content-type"),
    }
    if step["stream"]:
        parts, chunks, finish = [], 0, None
        for chunk in raw.parse():
            assert chunk.object == "chat.completion.chunk", chunk
            chunks += 1
            for choice in chunk.choices:
                parts.append(choice.delta.content or "")
                finish = choice.finish_reason or finish
        report.update(content="".join(parts), chunks=chunks, finish_reason=finish)
    else:
        completion = raw.parse()
        assert completion.object == "chat.completion", completion
        report.update(
            content=completion.choices[0].message.content,
            finish_reason=completion.choices[0].finish_reason,
        )
    return report


def main():
    base_url, status_header = sys.argv[1], sys.argv[2]
    clients = {}
    print(json.dumps({"ready": True, "openai": openai.__version__}), flush=True)
    for line in sys.stdin:
        if not line.strip():
            continue
        try:
            report = call(clients, base_url, status_header, json.loads(line))
        except Exception as e:  # reported to the test, which fails with it
            report = {"error": f"{type(e).__name__}: {e}"}
        print(json.dumps(report), flush=True)


if __name__ == "__main__":
    main()
