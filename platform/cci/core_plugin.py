"""The core's own hook implementations, registered like any other plugin."""

from __future__ import annotations

from pathlib import Path

from flask import current_app

from cci.hookspecs import hookimpl


def sync_tenants_job(report, directory: str | None = None) -> dict:
    from cci.tenants_sync import sync

    # No progress reports from inside sync(): it writes in one transaction, and on SQLite a
    # progress update (a transaction of its own) would wait for it until "database is locked".
    result = sync(
        Path(directory or current_app.config["TENANTS_DIR"]),
        actor="system: tenants sync job",
    )
    return {"lines": result.lines(), "changed": result.changed}


@hookimpl
def register_jobs():
    from cci import compute
    from cci import imports
    from cci import inbox
    from cci import retention

    return {
        inbox.JOB: inbox.drain_job,
        retention.PURGE_JOB: retention.purge_job,
        "tenants.sync": sync_tenants_job,
        "runs.region": compute.compute_region_job,
        "runs.federal": compute.compute_federal_job,
        "runs.recompute": compute.recompute_job,
        "imports.run": imports.import_job,
    }
