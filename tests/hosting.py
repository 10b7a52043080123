"""What the hosting module (infra/modules/hosting) puts in its bucket, and a small static server
that serves it the way CloudFront would (content types, the response headers policy's CSP).

tests/infra checks these files against the objects Terraform really uploads to the emulator's
S3; tests/browser serves them next to a config.json and connects the page to the local stack.
"""

from __future__ import annotations

import json
import os
import re
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from roomchat_tools.local import webpage

ROOT = Path(__file__).resolve().parents[1]
WEB_DIR = ROOT / "web"
HOSTING_MAIN = ROOT / "infra" / "modules" / "hosting" / "main.tf"


def content_types() -> dict[str, str]:
    """The module's `content_types` map (extension -> Content-Type), read from its main.tf."""
    block = re.search(r"content_types = \{(.*?)\n  \}", HOSTING_MAIN.read_text(), re.S)
    assert block, "content_types not found in hosting/main.tf"
    return dict(re.findall(r'(\w+)\s*=\s*"([^"]+)"', block.group(1)))


def page_csp() -> str:
    """The page's own Content-Security-Policy (the module sends it as a header too)."""
    html = (WEB_DIR / "index.html").read_text()
    match = re.search(r'Content-Security-Policy"\s+content="([^"]+)"', html)
    assert match
    return match.group(1)


def served_csp(websocket_url: str, sign_in_url: str | None = None) -> str:
    """The CSP header the module sends: the page's, its WebSocket origins narrowed to the
    stack's API and its sign-in origins to the stack's Cognito endpoint (none without one), as
    roomchat_tools.local.webpage narrows it locally."""
    return webpage.narrowed_csp(page_csp(), sign_in_url, websocket_url)


def hosted_files() -> dict[str, tuple[bytes, str]]:
    """Object key -> (body, content type) of every file of web/ the module uploads: all but
    tests/, README.md and dot files (config.json is added per stack)."""
    types = content_types()
    files = {}
    # Terraform's fileset() follows symlinks (web/sdk -> clients/js/src), so this walk does too.
    paths = [
        Path(folder, name)
        for folder, _, names in os.walk(WEB_DIR, followlinks=True)
        for name in names
    ]
    for path in sorted(paths):
        key = path.relative_to(WEB_DIR).as_posix()
        if path.is_dir() or key.startswith("tests/") or key == "README.md" or path.name[0] == ".":
            continue
        ext = path.suffix.lstrip(".").lower()
        files[key] = (path.read_bytes(), types.get(ext, "application/octet-stream"))
    return files


def site(websocket_url: str, auth: dict | None = None) -> dict[str, tuple[bytes, str]]:
    """The bucket's content for a stack: the files and config.json (with `auth` when given)."""
    config = json.dumps({"websocketUrl": websocket_url, **({"auth": auth} if auth else {})})
    config = config.encode()
    return {**hosted_files(), "config.json": (config, "application/json")}


@contextmanager
def serving(
    objects: Mapping[str, tuple[bytes, str]], sign_in_url: str | None = None
) -> Iterator[str]:
    """Serve ``objects`` on a free loopback port like the distribution: `/` is index.html,
    a missing key is 403 (what S3 answers CloudFront through origin access control), and every
    answer carries the security headers. Yields the base URL."""
    config = json.loads(objects["config.json"][0])
    csp = served_csp(config["websocketUrl"], sign_in_url)

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            key = self.path.split("?", 1)[0].lstrip("/") or "index.html"
            found = objects.get(key)
            body, content_type = found if found else (b"AccessDenied", "application/xml")
            self.send_response(200 if found else 403)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Content-Security-Policy", csp)
            self.send_header("X-Content-Type-Options", "nosniff")
            self.send_header("X-Frame-Options", "DENY")
            self.send_header("Referrer-Policy", "no-referrer")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
