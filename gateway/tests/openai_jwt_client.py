"""The `openai` package, unchanged, calling the gateway over TLS with a JWT.

Driven by gateway/tests/run_jwt_tls.rs. Gets an access token from the
local OpenID provider (client-credentials grant, as an application would),
then, trusting the test CA:

- `plain`: `client.chat.completions.create` with the token as the API key
  (the openai client sends it as `Authorization: Bearer`): the answer;
- `stream`: the same, streamed: the content and the number of chunks;
- `no_token`: a raw POST without `Authorization` (urllib): its status and
  body;
- `bad_token`: the openai client with the token's signature altered: the
  status of the `openai.APIStatusError` it raises;
- `token`: the token, for the test to look for it in the gateway's log.

Prints one line of JSON. Usage:
openai_jwt_client.py BASE_URL CA_FILE TOKEN_URL CLIENT_ID CLIENT_SECRET
"""

import json
import ssl
import sys
import urllib.error
import urllib.parse
import urllib.request

import openai


def post(url, body, headers, context=None):
    """(status, text) of a POST."""
    req = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(req, timeout=20, context=context) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def main():
    base_url, ca, token_url, client_id, secret = sys.argv[1:6]
    tls = ssl.create_default_context(cafile=ca)
    report = {"openai": openai.__version__}
    form = urllib.parse.urlencode({"grant_type": "client_credentials", "client_id": client_id,
                                   "client_secret": secret, "scope": "api://sluice-e2e/.default"})
    status, text = post(token_url, form.encode(),
                        {"Content-Type": "application/x-www-form-urlencoded"})
    assert status == 200, (status, text)
    token = json.loads(text)["access_token"]
    report["token"] = token

    def client(key):
        return openai.OpenAI(base_url=base_url, api_key=key, max_retries=0, timeout=20.0,
                             http_client=openai.DefaultHttpxClient(verify=tls))

    messages = [{"role": "user", "content": "What is the capital of France?"}]
    try:
        answer = client(token).chat.completions.create(model="gpt-4o", messages=messages)
        report["plain"] = {"content": answer.choices[0].message.content, "model": answer.model}
        parts, chunks = [], 0
        for chunk in client(token).chat.completions.create(model="gpt-4o", messages=messages,
                                                            stream=True):
            chunks += 1
            for choice in chunk.choices:
                parts.append(choice.delta.content or "")
        report["stream"] = {"content": "".join(parts), "chunks": chunks}
    except Exception as e:  # reported, for the test to show
        report["error"] = "%s: %s" % (type(e).__name__, e)

    status, text = post(base_url + "/chat/completions",
                        json.dumps({"model": "gpt-4o", "messages": messages}).encode(),
                        {"Content-Type": "application/json"}, tls)
    report["no_token"] = {"status": status, "body": text}

    head, payload, signature = token.split(".")
    forged = ".".join([head, payload, ("A" if signature[0] != "A" else "B") + signature[1:]])
    try:
        client(forged).chat.completions.create(model="gpt-4o", messages=messages)
        report["bad_token"] = {"status": 200}
    except openai.APIStatusError as e:
        report["bad_token"] = {"status": e.status_code, "body": e.response.text}
    print(json.dumps(report), flush=True)


if __name__ == "__main__":
    main()
