"""Settings: where the pose models, the pose cache and the history database live, and the debug switch.

Every environment variable the tool reads is read here, when `settings()` is called (not at import), so a
test or a server can change them at run time.

| variable | default |
|---|---|
| `BALANCE_MODELS_DIR` | the bundles installed in the package (`balance/models`), else the checkout's `models/` |
| `BALANCE_CACHE_DIR` | `~/.cache/balance/pose` |
| `BALANCE_DB` | the history: a file path, `sqlite:///FILE` or `postgresql://USER@HOST/DB` |
|  | (default `<platformdirs user_data_dir("balance")>/balance.db`) |
| `BALANCE_DEBUG` | off: errors are one line; on: with their traceback |
| `BALANCE_TOKEN` | `balance serve`'s access token off localhost (default: a new random one per start) |
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from platformdirs import user_data_dir

PACKAGE_DIR = Path(__file__).resolve().parent
DB_ENV = "BALANCE_DB"
DB_FILE = "balance.db"


def _default_models_dir() -> Path:
    # A wheel carries the bundles inside the package; a source checkout keeps them in the top-level models/.
    installed = PACKAGE_DIR / "models"
    return installed if installed.is_dir() else PACKAGE_DIR.parents[1] / "models"


@dataclass(frozen=True)
class Settings:
    models_dir: Path
    cache_dir: Path
    db: str | None  # the BALANCE_DB value as given (a path or a URL); None: the per-user default
    debug: bool
    web_token: str | None = None  # BALANCE_TOKEN

    @property
    def default_db_path(self) -> Path:
        return Path(user_data_dir("balance", appauthor=False)) / DB_FILE


def settings() -> Settings:
    env = os.environ
    return Settings(
        models_dir=Path(env["BALANCE_MODELS_DIR"]) if env.get("BALANCE_MODELS_DIR") else _default_models_dir(),
        cache_dir=Path(env["BALANCE_CACHE_DIR"])
        if env.get("BALANCE_CACHE_DIR")
        else Path.home() / ".cache/balance/pose",
        db=env.get(DB_ENV) or None,
        debug=bool(env.get("BALANCE_DEBUG")),
        web_token=env.get("BALANCE_TOKEN") or None,
    )
