"""The front of the Authentik stand-in (harness/platform/sso.py): what the browser reaches at Authentik's public
address. It signs users in (HTTP Basic, against the users file: {username: {password, email, groups}}), serves
Authentik's public authorization path by the stand-in Dex's, hands every request to the stand-in with the signed-in
user in the headers Dex's `authproxy` connector reads (whatever the client sent in them is dropped), and rewrites
the stand-in's redirects from its in-cluster address to the public one. Stdlib only; loopback only.

Usage: idp_front.py PORT STAND_IN_PORT USERS_FILE IN_CLUSTER_ORIGIN PUBLIC_ORIGIN PUBLIC_AUTH_PATH STAND_IN_AUTH_PATH
"""
import base64
import hmac
import http.client
import json
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

IDENTITY_HEADERS = ("x-remote-user", "x-remote-user-id", "x-remote-user-name", "x-remote-user-email",
                    "x-remote-group")
HOP_BY_HOP = ("connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade", "authorization", "host")


def signed_in(header: str, users: dict):
    """The username whose password the Basic credentials carry, else None."""
    scheme, encoded = ((header or "").split(" ", 1) + [""])[:2]
    if scheme.lower() != "basic":
        return None
    try:
        name, password = (base64.b64decode(encoded).decode().split(":", 1) + [""])[:2]
    except ValueError:
        return None
    user = users.get(name)
    return name if user and hmac.compare_digest(user["password"].encode(), password.encode()) else None


def handler(stand_in: int, users: dict, in_cluster: str, public: str, public_auth: str, stand_in_auth: str):
    class Front(BaseHTTPRequestHandler):
        def _forward(self):
            name = signed_in(self.headers.get("Authorization"), users)
            if name is None:
                self.send_response(401)
                self.send_header("WWW-Authenticate", 'Basic realm="authentik stand-in"')
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            path, query = (self.path.split("?", 1) + [""])[:2]
            if path == public_auth:
                path = stand_in_auth
            headers = {key: value for key, value in self.headers.items()
                       if key.lower() not in IDENTITY_HEADERS + HOP_BY_HOP}
            user = users[name]
            headers.update({"X-Remote-User": name, "X-Remote-User-Email": user["email"]})
            if user.get("groups"):
                headers["X-Remote-Group"] = ",".join(user["groups"])
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            connection = http.client.HTTPConnection("127.0.0.1", stand_in, timeout=30)
            connection.request(self.command, path + (f"?{query}" if query else ""), body=body or None,
                               headers=headers)
            answer = connection.getresponse()
            content = answer.read()
            self.send_response(answer.status)
            for key, value in answer.getheaders():
                if key.lower() in HOP_BY_HOP or key.lower() == "content-length":
                    continue
                if key.lower() == "location" and value.startswith(in_cluster):
                    value = public + value[len(in_cluster):]
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(content)))
            self.end_headers()
            self.wfile.write(content)
            connection.close()

        do_GET = do_POST = _forward

        def log_message(self, format, *args):  # pylint: disable=redefined-builtin
            sys.stderr.write("authentik-front: " + (format % args) + "\n")

    return Front


def main(argv):
    port, stand_in, users_file, in_cluster, public, public_auth, stand_in_auth = argv
    with open(users_file, encoding="utf-8") as source:
        users = json.load(source)
    server = ThreadingHTTPServer(("127.0.0.1", int(port)),
                                 handler(int(stand_in), users, in_cluster, public, public_auth, stand_in_auth))
    server.serve_forever()


if __name__ == "__main__":
    main(sys.argv[1:])
