"""GitHub-shaped webhook deliveries for tests: the payloads of the events an organization's EventListener receives
(push, pull_request, ping, a branch deletion, a tag push), the headers GitHub sends, signed as GitHub signs them
(X-Hub-Signature-256: HMAC-SHA256 of the body with the webhook's secret), and sent to a URL on loopback."""
from __future__ import annotations

import hashlib
import hmac
import json
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass

ZERO = "0" * 40
GITHUB = "https://github.com"


def repository(full_name: str, server: str = GITHUB) -> dict:
    """SERVER: the Git server the repository lives on (a GitHub Enterprise Server's URL, or the test platform's
    Git server): its clone_url is there."""
    owner, name = full_name.split("/")
    return {"full_name": full_name, "name": name, "owner": {"login": owner},
            "clone_url": f"{server}/{full_name}.git", "pushed_at": 1796500000}


def push(full_name: str, revision: str, ref: str = "refs/heads/main", deleted: bool = False,
         server: str = GITHUB) -> dict:
    return {"ref": ref, "before": ZERO if not deleted else revision, "after": ZERO if deleted else revision,
            "deleted": deleted, "created": False, "repository": repository(full_name, server),
            "head_commit": None if deleted else {"id": revision}}


def pull_request(full_name: str, head: str, action: str = "opened", number: int = 7,
                 author_association: str = "MEMBER", head_repo: str | None = None) -> dict:
    return {"action": action, "number": number, "repository": repository(full_name),
            "pull_request": {"number": number, "author_association": author_association,
                             "head": {"sha": head, "ref": "feature", "repo": repository(head_repo or full_name)},
                             "base": {"ref": "main", "repo": repository(full_name)}}}


def ping(full_name: str) -> dict:
    return {"zen": "Keep it logically awesome.", "hook_id": 1, "repository": repository(full_name)}


def signature(secret: bytes, body: bytes) -> str:
    return "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()


@dataclass
class Answer:
    status: int
    body: str
    delivery: str

    def json(self) -> dict:
        return json.loads(self.body)


def deliver(url: str, event: str, payload, secret: bytes | None, *, signed_with: bytes | None = None,
            raw: bytes | None = None, timeout: float = 30) -> Answer:
    """POST a delivery as GitHub does; signed with `secret` (or `signed_with`, a wrong key), unsigned when both are
    None. `raw` sends those bytes as the body instead of the payload's JSON."""
    body = raw if raw is not None else json.dumps(payload).encode()
    delivery = str(uuid.uuid4())
    headers = {"Content-Type": "application/json", "User-Agent": "GitHub-Hookshot/aphex-test",
               "X-GitHub-Event": event, "X-GitHub-Delivery": delivery, "X-GitHub-Hook-ID": "1"}
    key = signed_with if signed_with is not None else secret
    if key is not None:
        headers["X-Hub-Signature-256"] = signature(key, body)
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    # No proxy from the environment: the URL is on loopback.
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(request, timeout=timeout) as response:
            return Answer(response.status, response.read().decode(errors="replace"), delivery)
    except urllib.error.HTTPError as error:
        return Answer(error.code, error.read().decode(errors="replace"), delivery)
