"""The history database: SQLite file or PostgreSQL server by URL, one code path (SQLAlchemy Core), versioned
migrations, one transaction per write, a clip stored once per analysis version.

engine: where the history lives (path or URL) and database errors as one line; schema: the migrations;
rows: analysis documents to rows and back (validation only); store: the Store.
"""

from balance.history.store.engine import BUSY_TIMEOUT_S, default_db_path
from balance.history.store.schema import LATEST_VERSION, MIGRATIONS
from balance.history.store.store import Store

__all__ = ["BUSY_TIMEOUT_S", "LATEST_VERSION", "MIGRATIONS", "Store", "default_db_path"]
