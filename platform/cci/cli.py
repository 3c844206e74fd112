"""`cci`: the one command-line entry for operators (a Flask CLI group over the app factory)."""

from __future__ import annotations

import contextlib
import gc
import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import click
from flask import Flask
from flask import current_app
from flask.cli import FlaskGroup
from flask.cli import with_appcontext
from sqlalchemy import select

from cci.foundation import tenancy
from cci.foundation.config import PROJECT_ROOT


def _create_app():
    from cci import create_app

    return create_app()


@click.group(cls=FlaskGroup, create_app=_create_app, add_default_commands=False)
def main() -> None:
    """ИКЦ platform: tenants, users, tokens, workers, migrations."""


# --- migrations -------------------------------------------------------------------------


def alembic_config(app: Flask | None = None):
    """Alembic's configuration: the core's revisions (branch ``cci``) and every installed
    plugin's own (hook ``register_migrations``), each plugin on a branch of its own."""
    from alembic.config import Config

    app = app or current_app
    cfg = Config(stdout=sys.stdout)  # the current one (Alembic's default is bound at import)
    cfg.set_main_option("script_location", app.config["MIGRATIONS_DIR"])
    cfg.set_main_option("sqlalchemy.url", app.config["DATABASE_URL"].replace("%", "%%"))
    cfg.set_main_option("path_separator", "os")
    locations = [Path(app.config["MIGRATIONS_DIR"]) / "versions", *_plugin_migrations(app)]
    cfg.set_main_option(
        "version_locations", os.pathsep.join(str(p) for p in locations).replace("%", "%%")
    )
    cfg.attributes["engine"] = app.extensions["cci.engine"]
    return cfg


def _plugin_migrations(app: Flask) -> list[Path]:
    """Every installed plugin's migrations, blocked or not (a blocked plugin is switched off in
    the app, but its revisions stay known and its tables current, so that the database's
    record of its branch resolves and unblocking needs no migration), and those of the plugins
    the app was given directly."""
    from cci.hooks.manager import build_plugin_manager
    from cci.hooks.manager import migration_locations

    locations = migration_locations(build_plugin_manager())
    for path in migration_locations(app.extensions["cci.plugins"]):
        if path not in locations:
            locations.append(path)
    return locations


@contextlib.contextmanager
def _alembic_errors():
    """Alembic's and the plugins' refusals as the command's error message, not a traceback
    (an unknown revision, a branch of a plugin no longer installed, a diverging model)."""
    from alembic.util.exc import CommandError

    from cci.hooks.manager import PluginError

    try:
        yield
    except (CommandError, PluginError) as exc:
        raise click.ClickException(str(exc)) from exc


@click.group("db")
def db_group() -> None:
    """Database migrations (Alembic): the core's and every installed plugin's branch."""


@db_group.command("upgrade")
@click.argument("revision", default="heads")
@with_appcontext
def db_upgrade(revision: str) -> None:
    """Apply migrations up to REVISION (default: heads, the core's and every plugin's)."""
    from alembic import command

    with _alembic_errors():
        command.upgrade(alembic_config(), revision)
    click.echo(f"database at {revision}")


@db_group.command("downgrade", context_settings={"ignore_unknown_options": True})
@click.argument("revision")  # "-1" is a revision, not an option
@with_appcontext
def db_downgrade(revision: str) -> None:
    """Revert migrations down to REVISION (base, a revision id, or one branch's: kiosk@base,
    cci@-1)."""
    import re

    from alembic import command
    from alembic.script import ScriptDirectory

    with _alembic_errors():
        cfg = alembic_config()
        if re.fullmatch(r"-\d+", revision):
            heads = ScriptDirectory.from_config(cfg).get_heads()
            if len(heads) > 1:
                # Alembic would pick one branch of its own accord
                raise click.ClickException(
                    f"{revision} is ambiguous with several branches; name one, "
                    f"e.g. cci@{revision}"
                )
        command.downgrade(cfg, revision)
    click.echo(f"database at {revision}")


@db_group.command("current")
@with_appcontext
def db_current() -> None:
    """Show the revision each branch of the database is at."""
    from alembic import command

    with _alembic_errors():
        command.current(alembic_config())


@db_group.command("heads")
@with_appcontext
def db_heads() -> None:
    """Show the newest revision of each branch: the core's and every installed plugin's."""
    from alembic import command

    with _alembic_errors():
        command.heads(alembic_config(), verbose=False)


@db_group.command("check")
@with_appcontext
def db_check() -> None:
    """Fail if the models and the migrations disagree."""
    from alembic import command

    with _alembic_errors():  # a diverging model included (AutogenerateDiffsDetected)
        command.check(alembic_config())


# --- tenants ----------------------------------------------------------------------------


@click.group("tenants")
def tenants_group() -> None:
    """Regions and offices."""


@tenants_group.command("sync")
@click.option("--dir", "directory", type=click.Path(exists=True, file_okay=False, path_type=Path))
@with_appcontext
def tenants_sync(directory: Path | None) -> None:
    """Create and update regions and offices from tenants/*.toml; report what changed."""
    from cci.foundation.tenants_sync import TenantFileError
    from cci.foundation.tenants_sync import sync

    try:
        report = sync(directory or Path(current_app.config["TENANTS_DIR"]))
    except TenantFileError as exc:
        raise click.ClickException(str(exc)) from exc
    for line in report.lines():
        click.echo(line)


# --- users ------------------------------------------------------------------------------


@click.group("users")
def users_group() -> None:
    """User accounts."""


def _read_password(password_stdin: bool) -> tuple[str, bool]:
    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
        if not password:
            raise click.ClickException("no password on standard input")
        return password, False
    return secrets.token_urlsafe(12), True


@users_group.command("create")
@click.option("--email", required=True)
@click.option("--role", required=True, help="admin, federal_analyst, methodology_owner, "
              "regional_admin, auditor or operator")
@click.option("--region", "region_code", help="region code (ISO 3166-2:RU) for regional roles")
@click.option("--office", "office_code", help="office code, to bind the user to one office")
@click.option("--name", "full_name", default="")
@click.option("--password-stdin", is_flag=True, help="read the password from standard input")
@with_appcontext
def users_create(email, role, region_code, office_code, full_name, password_stdin) -> None:
    """Create a user; without --password-stdin a password is generated and printed once."""
    from cci.foundation import audit
    from cci.foundation.db import db
    from cci.foundation.models import Office
    from cci.foundation.models import Region
    from cci.foundation.users import UserError
    from cci.foundation.users import create_user

    password, generated = _read_password(password_stdin)
    with tenancy.federal_scope("cci users create"):
        office_id = None
        if office_code:
            region = db.scalar(select(Region).where(Region.code == region_code))
            office = region and db.scalar(
                select(Office).where(Office.region_id == region.id, Office.code == office_code)
            )
            if not office:
                raise click.ClickException(f"no office {office_code!r} in region {region_code!r}")
            office_id = office.id
        try:
            user = create_user(email=email, role=role, password=password,
                               region_code=region_code, office_id=office_id, full_name=full_name)
        except UserError as exc:
            raise click.ClickException(str(exc)) from exc
        db.flush()
        audit.record("user.create", user, actor="system: cci users create",
                     after=audit.snapshot(user, ("email", "role", "region_id", "office_id")))
        db.commit()
    click.echo(f"created {user.email} ({user.role})")
    if generated:
        click.echo(f"password: {password}")
        click.echo(f"it is shown only now: log in as {user.email} at /login, "
                   "then change it at /account/password")


@users_group.command("ensure-admin")
@click.option("--email", default="admin@cci.local", show_default=True)
@with_appcontext
def users_ensure_admin(email: str) -> None:
    """Create a platform administrator if there is none, and say how to log in."""
    from cci.foundation.db import db
    from cci.foundation.models import User
    from cci.foundation.roles import Role

    with tenancy.federal_scope("cci users ensure-admin"):
        exists = db.scalar(select(User.id).where(User.role == Role.ADMIN.value).limit(1))
    if exists:
        click.echo("an administrator exists; log in with your account")
        return
    ctx = click.get_current_context()
    ctx.invoke(users_create, email=email, role=Role.ADMIN.value, region_code=None,
               office_code=None, full_name="Администратор платформы", password_stdin=False)


# --- tokens -----------------------------------------------------------------------------


@click.group("tokens")
def tokens_group() -> None:
    """API tokens."""


@tokens_group.command("create")
@click.option("--email", required=True)
@click.option("--name", default="cli", show_default=True)
@with_appcontext
def tokens_create(email: str, name: str) -> None:
    """Create an API token for a user; the token is printed alone on the last line."""
    from cci.foundation import audit
    from cci.foundation import tokens
    from cci.foundation.db import db
    from cci.foundation.models import User

    with tenancy.federal_scope("cci tokens create"):
        user = db.scalar(select(User).where(User.email == email.strip().lower()))
        if user is None or not user.active:
            raise click.ClickException(f"no active user {email!r}")
        region = None if user.is_federal else user.region
        if not user.is_federal and region is None:  # its token would have no region to read
            raise click.ClickException(f"user {email!r} has a regional role but no region")
        row, token = tokens.issue(user, name)
        db.flush()
        audit.record("token.create", row, actor="system: cci tokens create",
                     after={"name": row.name, "prefix": row.prefix, "user": user.email})
        db.commit()
    scope = region.code if region is not None else "federal"
    click.echo(f"token «{row.name}» for {user.email}, scope {scope}; it is shown only now:")
    click.echo(token)


# --- sample data and runs ---------------------------------------------------------------


@click.group("sample")
def sample_group() -> None:
    """Generated sample data (marked as such in every page)."""


@sample_group.command("load")
@click.option("--compute/--no-compute", default=True, help="queue the index computation")
@with_appcontext
def sample_load(compute: bool) -> None:
    """Load «Пилот 2022» and a 2023 quarter with generated answers in two regions, and a
    past quarter of CX data (computed) there."""
    from cci.collection import sample_data
    from cci.index import compute as engine
    from cci.index import cx_sample

    created = sample_data.load()
    click.echo(f"sample campaigns created: {', '.join(created) or 'none (already loaded)'}")
    cx = cx_sample.load()
    for code, added in cx.regions.items():
        rows = ", ".join(f"{what} {n}" for what, n in added.items()) or "already loaded"
        click.echo(f"CX sample of {code}: {rows}")
    if cx.runs:
        click.echo(f"CX metrics computed: runs {', '.join(map(str, cx.runs))}")
    if compute and created:
        from cci.foundation.models import Campaign

        with tenancy.federal_scope("queue sample runs"):
            from cci.foundation.db import db

            for campaign in db.scalars(select(Campaign).where(Campaign.name.in_(created))):
                run, _ = engine.start_run(campaign.id)
                click.echo(f"computation queued: run {run.id} for «{campaign.name}»")


@click.group("runs")
def runs_group() -> None:
    """Index computations."""


@runs_group.command("start")
@click.option("--campaign", "campaign_name", required=True)
@click.option("--version", "methodology_key", default=None, help="default: the campaign's")
@click.option("--draft", is_flag=True, help="a preview run that is never published")
@with_appcontext
def runs_start(campaign_name: str, methodology_key: str | None, draft: bool) -> None:
    """Start (or reuse, when the inputs are unchanged) a run; workers compute it."""
    from cci.foundation.db import db
    from cci.foundation.models import Campaign
    from cci.index import compute as engine

    with tenancy.federal_scope("cci runs start"):
        campaign = db.scalar(select(Campaign).where(Campaign.name == campaign_name))
    if campaign is None:
        raise click.ClickException(f"no campaign {campaign_name!r}")
    run, created = engine.start_run(campaign.id, methodology_key, draft=draft)
    click.echo(f"{'started' if created else 'unchanged inputs, existing'} run {run.id}")


@click.group("survey")
def survey_group() -> None:
    """Web survey drafts (cci.collection.retention)."""


@survey_group.command("purge-drafts")
@click.option("--days", type=click.IntRange(min=1), default=None,
              help="keep drafts changed within this many days (default: SURVEY_DRAFT_DAYS)")
@with_appcontext
def survey_purge_drafts(days: int | None) -> None:
    """Delete the survey drafts nobody has touched for a while (finished or abandoned)."""
    import datetime as dt

    from cci.collection import retention
    from cci.foundation.db import utcnow

    before = (utcnow() - dt.timedelta(days=days)) if days else retention.cutoff()
    with tenancy.federal_scope("cci survey purge-drafts"):
        deleted = retention.purge_drafts(before)
    click.echo(f"survey drafts deleted: {deleted} (untouched since {before:%Y-%m-%d %H:%M} UTC)")


@click.group("cases")
def cases_group() -> None:
    """Cases: comments and low ratings the offices answer (cci.collection.cases)."""


@cases_group.command("collect")
@with_appcontext
def cases_collect() -> None:
    """Make the cases of comments and low ratings that have none yet (safe to run again)."""
    from cci.collection import cases

    with tenancy.federal_scope("cci cases collect"):
        result = cases.collect_job(lambda _fraction, _message="": None)
    click.echo(f"cases created: {result['created']}")


# --- processes --------------------------------------------------------------------------


@click.command("worker")
@click.option("--burst", is_flag=True, help="exit when the queues are empty")
@click.option("--queues", default="high,default,low", show_default=True)
@click.option("--simple", is_flag=True, help="run jobs in this process instead of a fork")
@click.option("--nice", default=10, show_default=True, type=click.IntRange(0, 19),
              help="scheduling priority offset: on a machine shared with the web server, "
                   "background work yields the processor to requests")
@with_appcontext
def worker(burst: bool, queues: str, simple: bool, nice: int) -> None:
    """Run an RQ worker for the platform's queues (any number may run, on any machine)."""
    from sqlalchemy.orm import configure_mappers

    from cci.foundation import worker as platform_worker
    from cci.foundation.jobs import set_worker_app

    if nice:
        os.nice(nice)  # work horses inherit it
    configure_mappers()  # before forking, so every work horse starts with ready mappers
    # the worker keeps the app itself, not the proxy (typed as the app, so mypy does not
    # know the proxy's method)
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    set_worker_app(app)
    app.extensions["cci.pid"] = os.getpid()
    names = [name.strip() for name in queues.split(",") if name.strip()]
    if not simple:
        # Everything loaded so far lives as long as the worker: kept out of the collector's
        # reach, a work horse does not copy these pages on its first collection after a fork.
        gc.collect()
        gc.freeze()
    platform_worker.run(app, names, simple=simple, burst=burst)


@click.command("dev")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=lambda: int(os.environ.get("PORT", 8000)), type=int)
@click.option("--web-workers", default=2, show_default=True)
@with_appcontext
def dev(host: str, port: int, web_workers: int) -> None:
    """Run everything on one machine: the web server, one RQ worker and, unless REDIS_URL is
    set, the embedded Redis. Ctrl-C stops all of them."""
    from cci.foundation.redis_conn import redis_url

    # `kill`, a closed terminal and Ctrl-C all stop the children (and the embedded Redis),
    # also when started in the background, where SIGINT arrives ignored.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, _stop_on_signal)
    env = dict(os.environ, REDIS_URL=redis_url(current_app))
    bin_dir = Path(sys.executable).parent
    cci_bin = shutil.which("cci", path=str(bin_dir)) or "cci"
    gunicorn_bin = shutil.which("gunicorn", path=str(bin_dir)) or "gunicorn"
    children = [
        subprocess.Popen([cci_bin, "worker"], env=env),
        subprocess.Popen(
            [gunicorn_bin, "--bind", f"{host}:{port}", "--workers", str(web_workers),
             "--access-logfile", "-", "wsgi:app"],
            env=env,
            cwd=PROJECT_ROOT,
        ),
    ]
    click.echo(f"ИКЦ platform: http://{host}:{port}/  (Ctrl-C stops the server and the worker)")
    crashed = False
    try:
        while all(child.poll() is None for child in children):
            time.sleep(0.5)
        click.echo("a process stopped; shutting down", err=True)
        crashed = True
    except KeyboardInterrupt:
        click.echo("stopping…")
    finally:
        for child in children:
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)
        for child in children:
            try:
                child.wait(timeout=15)
            except subprocess.TimeoutExpired:
                child.kill()
    if crashed:
        raise SystemExit(1)


def _stop_on_signal(_signum, _frame) -> None:
    raise KeyboardInterrupt


# --- journey maps ------------------------------------------------------------------------


@click.group("maps")
def maps_group() -> None:
    """Customer journey maps (cci.foundation.journey_maps)."""


@maps_group.command("seed")
@with_appcontext
def maps_seed() -> None:
    """Load the federal journey map templates shipped with the platform that are missing."""
    from cci.foundation import journey_maps
    from cci.foundation.db import db

    with tenancy.federal_scope("cci maps seed"):
        added = journey_maps.seed_templates()
        db.commit()
    click.echo(f"journey map templates added: {', '.join(added) or 'none (already there)'}")


@click.group("notifications")
def notifications_group() -> None:
    """Staff notifications and their daily digest (cci.foundation.notifications)."""


@notifications_group.command("digest")
@click.option("--now", "any_hour", is_flag=True,
              help="do not wait for the morning hour (NOTIFY_DIGEST_HOUR) in each time zone")
@with_appcontext
def notifications_digest(any_hour: bool) -> None:
    """Tell about actions due, then send the daily digests due; a user who had today's digest
    gets none (workers do the same every NOTIFY_EVERY_SECONDS)."""
    from cci.foundation import notifications
    from cci.foundation.db import db

    told = notifications.remind_actions()
    db.commit()
    sent = notifications.send_digests(any_hour=any_hour)
    click.echo(f"notifications about actions due: {told}; digests sent: {sent}")


for _command in (db_group, tenants_group, users_group, tokens_group, worker, dev, sample_group,
                 runs_group, survey_group, maps_group, notifications_group, cases_group):
    main.add_command(_command)


if __name__ == "__main__":  # `python -m cci.cli` is the same as `cci`
    main()
