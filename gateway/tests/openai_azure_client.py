"""The `openai` package, unchanged, as an Azure OpenAI client of the gateway.

Driven by gateway/tests/run_apiops_openai.rs: an `openai.AzureOpenAI`
client (the subscription key as its `api-key`, the gateway as its
`azure_endpoint`) makes one `chat.completions.create` call per prompt given,
in order, and prints one line of JSON: for each call, its status, the
gateway's cache status header, the remaining-tokens header and the answer's
content; a refused call (an `openai.APIStatusError`, e.g. the
`RateLimitError` of a 429) is reported with its status and the gateway's
message, never raised.

Usage: openai_azure_client.py ENDPOINT SUBSCRIPTION_KEY STATUS_HEADER PROMPT...
"""

import json
import sys

import openai


def main():
    endpoint, key, status_header = sys.argv[1], sys.argv[2], sys.argv[3]
    client = openai.AzureOpenAI(
        azure_endpoint=endpoint,
        api_key=key,
        api_version="2024-10-21",
        # One call is one request: no retry may hide a refusal or add a
        # backend call.
        max_retries=0,
        timeout=20.0,
    )
    reports = []
    for prompt in sys.argv[4:]:
        messages = [{"role": "user", "content": prompt}]
        try:
            raw = client.chat.completions.with_raw_response.create(
                model="gpt-4o", messages=messages
            )
            completion = raw.parse()
            reports.append(
                {
                    "status": raw.status_code,
                    "cache": raw.headers.get(status_header),
                    "remaining": raw.headers.get("x-remaining-tokens"),
                    "content": completion.choices[0].message.content,
                }
            )
        except openai.APIStatusError as e:
            reports.append(
                {
                    "status": e.status_code,
                    "error": type(e).__name__,
                    "message": (e.body or {}).get("message") if isinstance(e.body, dict) else str(e.body),
                    "retry_after": e.response.headers.get("retry-after"),
                    "remaining": e.response.headers.get("x-remaining-tokens"),
                }
            )
        except Exception as e:  # reported to the test, which fails with it
            reports.append({"status": None, "error": f"{type(e).__name__}: {e}"})
    print(json.dumps({"openai": openai.__version__, "calls": reports}), flush=True)


if __name__ == "__main__":
    main()
