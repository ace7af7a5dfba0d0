"""A Git server on loopback: Git's own smart-HTTP server (`git http-backend`, run as the CGI program it is) behind a
small HTTP front, serving the bare repositories under a folder read-only - where the tenants' repositories live for
the test platform (ArgoCD clones them from here) instead of GitHub.

    python harness/gitserver.py ROOT PORT     serve ROOT/<owner>/<name>.git at http://127.0.0.1:PORT/<owner>/<name>.git
    python harness/gitserver.py ROOT PORT --users FILE
                                              the same, private: every request needs HTTP basic authentication as
                                              one of FILE's `name:password` lines, and those users may push (the
                                              operator's platform repository, issue 25)

`publish(ROOT, "owner/name", {path: text})` commits a tree to a repository's main branch (creating the repository)
and returns the commit's SHA: what a tenant's `git push` would have made. Stdlib and the git program only."""
from __future__ import annotations

import base64
import contextlib
import hmac
import os
import socket
import shutil
import subprocess
import sys
import tempfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

LOOPBACK = "127.0.0.1"
BRANCH = "main"
# Commits the tests make are reproducible: the same tree and message give the same SHA.
AUTHOR = {"GIT_AUTHOR_NAME": "Aphex Test", "GIT_AUTHOR_EMAIL": "test@aphex.test",
          "GIT_AUTHOR_DATE": "2026-01-01T00:00:00Z", "GIT_COMMITTER_NAME": "Aphex Test",
          "GIT_COMMITTER_EMAIL": "test@aphex.test", "GIT_COMMITTER_DATE": "2026-01-01T00:00:00Z"}


def repository_path(root: Path, full_name: str) -> Path:
    owner, name = full_name.split("/")
    return Path(root) / owner / f"{name}.git"


def _git(*args: str, env: dict | None = None, stdin: str | None = None) -> str:
    return subprocess.run(["git", *args], input=stdin, capture_output=True, text=True, check=True,
                          env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": tempfile.gettempdir(),
                               "GIT_CONFIG_NOSYSTEM": "1", **(env or {})}).stdout.strip()


def tree_of(folder: Path) -> dict:
    """A folder's files as publish() takes them: {path relative to FOLDER: text}."""
    folder = Path(folder)
    return {str(path.relative_to(folder)): path.read_text() for path in sorted(folder.rglob("*")) if path.is_file()}


def publish(root: Path, full_name: str, files: dict, message: str = "deploy") -> str:
    """Make FILES ({path: text}) the whole tree of the repository's main branch, as one new commit on top of what
    it holds - none when the branch already holds that tree; returns the branch's commit."""
    bare = repository_path(root, full_name)
    if not bare.exists():
        bare.parent.mkdir(parents=True, exist_ok=True)
        _git("init", "--quiet", "--bare", f"--initial-branch={BRANCH}", str(bare))
    with tempfile.TemporaryDirectory() as scratch:
        tree_dir = Path(scratch) / "tree"
        for path, text in files.items():
            target = tree_dir / path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text)
        env = {**AUTHOR, "GIT_DIR": str(bare), "GIT_WORK_TREE": str(tree_dir),
               "GIT_INDEX_FILE": str(Path(scratch) / "index")}
        _git("add", "--all", ".", env=env)
        tree = _git("write-tree", env=env)
        parent = subprocess.run(["git", "--git-dir", str(bare), "rev-parse", "--verify", "--quiet",
                                 f"refs/heads/{BRANCH}"], capture_output=True, text=True, check=False).stdout.strip()
        if parent and _git("rev-parse", f"{parent}^{{tree}}", env=env) == tree:
            return parent
        commit = _git("commit-tree", tree, *(["-p", parent] if parent else []), "-m", message, env=env)
        _git("update-ref", f"refs/heads/{BRANCH}", commit, env=env)
    return commit


class GitHandler(BaseHTTPRequestHandler):
    """Hands each request to `git http-backend` (CGI/1.1): clone and fetch only - receive-pack is off for
    anonymous users, Git's default, so nothing can be pushed over HTTP. With `users`, a request must authenticate
    as one of them, and http-backend lets an authenticated user (REMOTE_USER) push."""

    root: Path = Path(".")
    users: dict = {}
    protocol_version = "HTTP/1.1"

    def do_GET(self):  # noqa: N802 - http.server's naming
        self._backend()

    def do_POST(self):  # noqa: N802
        self._backend()

    def _user(self) -> str | None:
        """The authenticated user's name; None when users are required and the request is not one of them."""
        if not self.users:
            return ""
        scheme, _separator, encoded = self.headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "basic":
            return None
        try:
            name, _separator, password = base64.b64decode(encoded, validate=True).decode().partition(":")
        except (ValueError, UnicodeDecodeError):
            return None
        expected = self.users.get(name)
        return name if expected is not None and hmac.compare_digest(expected, password) else None

    def _refuse(self) -> None:
        self._body()
        self.send_response(401)
        self.send_header("WWW-Authenticate", 'Basic realm="aphex test git"')
        self.send_header("Content-Length", "0")
        self.end_headers()

    def _body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while size := int(self.rfile.readline().split(b";")[0].strip() or b"0", 16):
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                pass  # trailers
            return b"".join(chunks)
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def _backend(self):
        user = self._user()
        if user is None:
            self._refuse()
            return
        path, _separator, query = self.path.partition("?")
        body = self._body() if self.command == "POST" else b""
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "GIT_PROJECT_ROOT": str(self.root),
               "GIT_HTTP_EXPORT_ALL": "1", "GIT_CONFIG_NOSYSTEM": "1", "HOME": str(self.root),
               "GATEWAY_INTERFACE": "CGI/1.1", "REQUEST_METHOD": self.command, "PATH_INFO": path,
               "QUERY_STRING": query, "REMOTE_ADDR": self.client_address[0], "CONTENT_LENGTH": str(len(body)),
               "CONTENT_TYPE": self.headers.get("Content-Type", ""), "SERVER_PROTOCOL": "HTTP/1.1"}
        if user:
            env["REMOTE_USER"] = user
        for header, variable in (("Git-Protocol", "GIT_PROTOCOL"), ("Content-Encoding", "HTTP_CONTENT_ENCODING")):
            if self.headers.get(header):
                env[variable] = self.headers[header]
        result = subprocess.run(["git", "http-backend"], input=body, capture_output=True, env=env, check=False)
        head, separator, payload = result.stdout.partition(b"\r\n\r\n")
        if not separator:
            head, _separator, payload = result.stdout.partition(b"\n\n")
        status, headers = 200, []
        for line in head.decode("latin-1").splitlines():
            name, _separator, value = line.partition(":")
            if name.lower() == "status":
                status = int(value.split()[0])
            elif name:
                headers.append((name, value.strip()))
        if not result.stdout:
            status, payload = 500, result.stderr
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format, *args):  # pylint: disable=redefined-builtin
        sys.stdout.write(f"{self.command} {self.path} -> {args[1] if len(args) > 1 else ''}\n")
        sys.stdout.flush()


def read_users(path: Path) -> dict:
    """{name: password} from a file of `name:password` lines."""
    return dict(line.split(":", 1) for line in Path(path).read_text().splitlines() if ":" in line)


def serve(root: Path, port: int, users: dict | None = None) -> None:
    handler = type("Handler", (GitHandler,), {"root": Path(root).resolve(), "users": dict(users or {})})
    server = ThreadingHTTPServer((LOOPBACK, port), handler)
    print(f"git server at http://{LOOPBACK}:{server.server_address[1]} for {root}", flush=True)
    server.serve_forever()


@contextlib.contextmanager
def running(root: Path, users: dict | None = None):
    """This server in a process of its own on a free loopback port, serving ROOT (private to `users` when given):
    yields its URL; stopped at the end."""
    with socket.socket() as sock:
        sock.bind((LOOPBACK, 0))
        port = sock.getsockname()[1]
    with tempfile.TemporaryDirectory() as scratch:
        options = []
        if users:
            users_file = Path(scratch) / "users"
            users_file.write_text("".join(f"{name}:{password}\n" for name, password in users.items()))
            options = ["--users", str(users_file)]
        process = subprocess.Popen([sys.executable, str(Path(__file__).resolve()), str(root), str(port), *options],
                                   stdout=subprocess.PIPE, text=True)
        try:
            if not process.stdout.readline().startswith(f"git server at http://{LOOPBACK}:{port}"):
                raise RuntimeError(f"the git server did not start on port {port}")
            yield f"http://{LOOPBACK}:{port}"
        finally:
            process.terminate()
            process.wait(timeout=10)


def main() -> None:
    root, port = sys.argv[1], int(sys.argv[2])
    users = read_users(Path(sys.argv[4])) if sys.argv[3:4] == ["--users"] else None
    Path(root).mkdir(parents=True, exist_ok=True)
    if shutil.which("git") is None:
        raise SystemExit("git is not installed")
    serve(Path(root), port, users)


if __name__ == "__main__":
    main()
