"""The core's own hook implementations, registered like any other plugin: its jobs and its
built-in quality rules."""

from __future__ import annotations

from pathlib import Path

from flask import current_app

from cci.hooks.specs import hookimpl


def sync_tenants_job(report, directory: str | None = None) -> dict:
    from cci.foundation.tenants_sync import sync

    # No progress reports from inside sync(): it writes in one transaction, and on SQLite a
    # progress update (a transaction of its own) would wait for it until "database is locked".
    result = sync(
        Path(directory or current_app.config["TENANTS_DIR"]),
        actor="system: tenants sync job",
    )
    return {"lines": result.lines(), "changed": result.changed}


@hookimpl
def register_jobs():
    from cci.collection import imports
    from cci.collection import recompute
    from cci.collection import retention
    from cci.index import compute

    return {
        retention.PURGE_JOB: retention.purge_job,
        "tenants.sync": sync_tenants_job,
        "runs.region": compute.compute_region_job,
        "runs.federal": compute.compute_federal_job,
        recompute.JOB: compute.recompute_job,
        "imports.run": imports.import_job,
    }


@hookimpl
def register_quality_rules():
    from cci.collection import quality_rules

    return list(quality_rules.RULES)
