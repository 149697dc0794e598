"""The web app's settings: where it keeps uploads and results, its limits, and who may use it.

One frozen object, built by `balance serve` from its options (and `balance.config` for the environment),
passed to `create_app`; tests build their own.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from balance.errors import UsageError

LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")
DEFAULT_HOST, DEFAULT_PORT = "127.0.0.1", 8000  # this computer only, until asked to listen beyond it
DEFAULT_WORKERS = 1  # analyses at once: each runs the pose model on the machine's cores
GiB = 1024**3
MiB = 1024**2


@dataclass(frozen=True)
class WebSettings:
    data_dir: Path  # uploads/ and jobs/ live here; one folder per job holds its clip and results
    db: str | None = None  # history database (path or URL); None: the library's default
    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    # Required on every request when the server listens beyond this machine; None: no token (local only).
    token: str | None = None
    # Phone clips run up to ~2 GB (1080p60 for a minute or two); a bigger file is refused before it is stored.
    max_upload_bytes: int = 2 * GiB
    # Forms without files (names, notes, confirmations) are small; a bigger body is refused unread.
    max_form_bytes: int = 64 * 1024
    max_files_per_upload: int = 10
    # Queued or running jobs one client may hold at once: one person cannot fill the queue for everyone.
    max_jobs_per_client: int = 20
    # ... and all clients together: a client that drops its cookie for a new session still meets this.
    max_jobs_total: int = 200
    # Analyses at once (each is a process running the pose model); the rest wait in the queue.
    workers: int = DEFAULT_WORKERS
    # Parallel pose processes inside one analysis (None: the library decides by the clip's length).
    pose_workers: int | None = None
    chromium: str | None = None  # for the PDF download; None: looked up on PATH
    secure_cookies: bool = False  # set the Secure flag (https)
    secret: str = field(default_factory=lambda: secrets.token_urlsafe(32))  # signs the CSRF tokens

    def __post_init__(self) -> None:
        if not 1 <= self.port <= 65535:
            raise UsageError(f"port {self.port} is outside 1-65535", "Give another port", option="port")
        # Each worker runs the pose model on the cores: more than two per core only queue behind one another.
        if not 1 <= self.workers <= (os.cpu_count() or 1) * 2:
            raise UsageError(f"{self.workers} workers is not sensible here", "Give 1 or 2 workers", option="workers")

    @property
    def needs_token(self) -> bool:
        return self.token is not None


def new_token() -> str:
    return secrets.token_urlsafe(24)
