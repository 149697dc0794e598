"""The `serve` command: the web app on this computer (or the local network, with an access token)."""

from __future__ import annotations

import argparse
import socket
import threading
import webbrowser
from pathlib import Path
from typing import Any

from balance.config import settings
from balance.web.settings import DEFAULT_HOST, DEFAULT_PORT, DEFAULT_WORKERS


def add_serve_command(subparsers: Any) -> None:
    s = subparsers.add_parser("serve", help="the web app: upload clips, see results, follow each person's programme")
    s.add_argument(
        "--host", default=DEFAULT_HOST, help=f"address to listen on (default {DEFAULT_HOST}: this computer only)"
    )
    s.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port (default {DEFAULT_PORT})")
    s.add_argument("--no-browser", action="store_true", help="do not open a browser")
    s.add_argument("--token", help="access token off localhost (default: $BALANCE_TOKEN, else a new random one)")
    s.add_argument("--data", type=Path, help="folder for uploads and results (default: beside the history database)")
    s.add_argument("--db", help="history database (default: $BALANCE_DB or the per-user file)")
    s.add_argument(
        "--workers",
        type=int,
        default=DEFAULT_WORKERS,
        help=f"analyses at once (default {DEFAULT_WORKERS}); the rest queue",
    )
    s.add_argument(
        "--https",
        action="store_true",
        help="serve https with a certificate the app makes for itself (phones open the camera only on https)",
    )
    s.set_defaults(handler=cmd_serve)


def _reachable(host: str) -> str:
    """The address a phone on the same network uses: this machine's LAN address when listening on all."""
    if host not in ("0.0.0.0", "::", ""):
        return host
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            s.connect(("10.255.255.255", 1))  # UDP connect sends nothing: it only picks the outgoing interface
            return str(s.getsockname()[0])
        except OSError:
            return socket.gethostname()


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from balance.web.app import create_app
    from balance.web.settings import LOCAL_HOSTS, WebSettings, new_token

    env = settings()
    local = args.host in LOCAL_HOSTS
    token = None if local else (args.token or env.web_token or new_token())
    data = args.data or env.default_db_path.parent / "web"
    web = WebSettings(
        data_dir=data.expanduser(),
        db=args.db or env.db,
        host=args.host,
        port=args.port,
        token=token,
        workers=args.workers,
        secure_cookies=args.https,
    )
    app = create_app(web)
    shown = "127.0.0.1" if local else _reachable(args.host)
    scheme = "https" if args.https else "http"
    url = f"{scheme}://{shown}:{args.port}/" + (f"?token={token}" if token else "")
    print(f"balance serve: {url}", flush=True)
    tls: dict[str, Any] = {}
    if args.https:
        from balance.web.tls import certificate

        cert = certificate(web.data_dir / "tls", args.host)
        tls = {"ssl_certfile": str(cert.cert), "ssl_keyfile": str(cert.key)}
        print(
            f"Self-signed certificate {cert.cert} (SHA-256 {cert.fingerprint}): a browser warns the first time; "
            "check the fingerprint, then accept it for this address.",
            flush=True,
        )
    if token:
        print("Anyone on the network with this URL (and its token) can use the app. Ctrl-C stops it.", flush=True)
    if not args.no_browser:
        threading.Timer(1.0, webbrowser.open, args=(url,)).start()
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning", timeout_graceful_shutdown=3, **tls)
    return 0
