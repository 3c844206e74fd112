"""The submission path: simulated kiosks and web respondents against gunicorn + PostgreSQL.

Three gunicorns on loopback, with the same configuration: the platform itself (``wsgi:app``), the
ceiling (:mod:`bench.ceiling`: the same JSON body, one INSERT, bare WSGI) and the Flask floor (the
same INSERT in a bare Flask view: what the framework alone costs). Kiosks are registered with the
kiosk plugin's own functions and paired over HTTP as a device pairs (``/k/pair`` with the one-time
code, then ``/k/api/questionnaire`` with the device token); each simulated kiosk has its own
loopback address (127.10.x.y), so per-device and per-address rules see separate devices.

Phases, each against the platform, the ceiling and the Flask floor in the same run:

* saturation: :data:`SATURATION_CLIENTS` concurrent clients for ``BENCH_SUBMIT_SECONDS``
  (default 30) s, each delivering complete kiosk surveys back to back, one kiosk after
  another of its own (one request = one answer, as for the ceiling): accepted answers per s;
* latency: :data:`LATENCY_CLIENTS` concurrent clients for ``BENCH_SUBMIT_LATENCY_SECONDS``
  (default 15) s: p50/p95/p99 of each request, connection included;
* web respondents (platform only, ``BENCH_SUBMIT_WEB_SECONDS``, default 15 s; 0 skips it):
  :data:`WEB_CLIENTS` people at a time going through the web survey under /s as a browser
  with htmx does (the office's page, then one form post per step), each from an address of
  their own.

An answer counts when the server says "stored" (201): the platform answers so once the answer
is stored with its quality flags, in the request, so the saturation phase's rate (from the
first delivery to the last answer stored) is the stored throughput, set against the ceiling's
in the same run. Errors are every other outcome but "already received" (timeouts, refused
connections and 503s included). Afterwards the rows stored for the bench's keys are compared
with the accepted ones: ``submit_lost`` counts accepted answers that are not stored (or stored
without their quality check), ``submit_unacknowledged`` rows stored without an
acknowledgement.

The kiosks deliver what they recorded as a kiosk does after being offline (the API accepts
answers up to 30 days old): each kiosk's clock walks through office hours of a recent day,
a respondent every few minutes with realistic per-question timings, so the data-quality rules
(too fast, straight-lining, bursts, outside office hours, near-duplicates) see people, not a
load generator, and fire only as often as they would in an office. Web respondents answer as
fast as the load generator can: their answers are flagged "too fast" (flagged answers are
stored, so this is not an error).

Environment: BENCH_SUBMIT_SECONDS, BENCH_SUBMIT_LATENCY_SECONDS, BENCH_SUBMIT_WEB_SECONDS,
BENCH_SUBMIT_KIOSKS (default 256), BENCH_SUBMIT_GUNICORN_WORKERS (default 2 × cores + 1),
BENCH_SUBMIT_WORKER_CLASS (default sync; gthread uses BENCH_SUBMIT_THREADS, default 4),
BENCH_SUBMIT_PROFILE (a file: the in-process deliveries are profiled into it; cProfile format,
CPU time).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import functools
import html
import json
import math
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
import zoneinfo
from collections import Counter
from dataclasses import dataclass
from dataclasses import field
from pathlib import Path
from urllib.parse import quote
from urllib.parse import urlencode

from bench import cpu
from bench.workers import WORKERS
from bench.workers import running_workers

ROOT = Path(__file__).resolve().parents[1]

SATURATION_CLIENTS = 64
LATENCY_CLIENTS = 16
WEB_CLIENTS = 16
SATURATION_SECONDS = float(os.environ.get("BENCH_SUBMIT_SECONDS", "30"))
LATENCY_SECONDS = float(os.environ.get("BENCH_SUBMIT_LATENCY_SECONDS",
                                       str(min(15.0, SATURATION_SECONDS))))
WEB_SECONDS = float(os.environ.get("BENCH_SUBMIT_WEB_SECONDS", str(min(15.0, SATURATION_SECONDS))))
WARMUP_SECONDS = 2.0
#: one kiosk per sender at least (a kiosk delivers one answer at a time)
KIOSKS = max(SATURATION_CLIENTS, int(os.environ.get("BENCH_SUBMIT_KIOSKS",
                                                    str(4 * SATURATION_CLIENTS))))
GUNICORN_WORKERS = int(os.environ.get("BENCH_SUBMIT_GUNICORN_WORKERS",
                                      str(2 * (os.cpu_count() or 2) + 1)))
WORKER_CLASS = os.environ.get("BENCH_SUBMIT_WORKER_CLASS", "sync")
THREADS = int(os.environ.get("BENCH_SUBMIT_THREADS", "4"))
REQUEST_TIMEOUT = 30.0

GOAL_P99_MS = 100.0
GOAL_RATIO = 0.3

KIOSK_RESPONSES = "/k/api/responses"
USER_AGENT = ("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
              "Chrome/126.0 Safari/537.36 cci-bench")
COMMENTS = (
    "Спасибо консультанту, всё объяснили понятно.",
    "Долго ждал в очереди к специалисту.",
    "Хотелось бы больше вакансий по моей специальности.",
    "Удобно, что можно записаться заранее через Госуслуги.",
    "На сайте трудно найти расписание приёма.",
    "Вежливые сотрудники, чисто и светло.",
    "Не хватает мест для ожидания.",
    "Помогли составить резюме, спасибо!",
)
OPENS, CLOSES = dt.time(8, 10), dt.time(19, 40)


def say(message: str) -> None:
    print(message, flush=True)


# --- a lean HTTP/1.1 client on asyncio streams ----------------------------------------------


class HTTPError(Exception):
    """The connection broke or the answer was not HTTP."""


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    cookies: dict[str, str]
    body: bytes

    def json(self):
        try:
            return json.loads(self.body)
        except ValueError:
            return None


class Connection:
    """One client socket from a fixed loopback address; kept open while the server keeps it
    (sync gunicorn workers close after each answer, gthread ones keep it alive)."""

    def __init__(self, port: int, source: str):
        self.port = port
        self.source = source
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None

    async def request(self, method: str, path: str, headers: dict[str, str] | None = None,
                      body: bytes = b"") -> Reply:
        lines = [f"{method} {path} HTTP/1.1", f"Host: 127.0.0.1:{self.port}"]
        lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
        if body or method == "POST":
            lines.append(f"Content-Length: {len(body)}")
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        reused = self.writer is not None
        while True:
            if self.writer is None:
                self.reader, self.writer = await asyncio.open_connection(
                    "127.0.0.1", self.port, local_addr=(self.source, 0))
            try:
                self.writer.write(head + body)
                reply = await self._read()
            except (ConnectionError, asyncio.IncompleteReadError, asyncio.LimitOverrunError,
                    HTTPError):
                self.close()
                if reused:  # the server closed an idle keep-alive connection: once more
                    reused = False
                    continue
                raise
            except BaseException:
                self.close()
                raise
            if reply.headers.get("connection", "").lower() == "close":
                self.close()
            return reply

    async def _read(self) -> Reply:
        raw = await self.reader.readuntil(b"\r\n\r\n")
        lines = raw.decode("latin-1").split("\r\n")
        parts = lines[0].split(" ", 2)
        if len(parts) < 2 or not parts[0].startswith("HTTP/"):
            raise HTTPError(f"not HTTP: {lines[0][:80]!r}")
        status = int(parts[1])
        headers: dict[str, str] = {}
        cookies: dict[str, str] = {}
        for line in lines[1:]:
            if not line:
                continue
            name, _, value = line.partition(":")
            name, value = name.strip().lower(), value.strip()
            if name == "set-cookie":
                cookie_name, _, rest = value.partition("=")
                cookies[cookie_name] = rest.split(";", 1)[0]
            else:
                headers[name] = value
        if "content-length" in headers:
            body = await self.reader.readexactly(int(headers["content-length"]))
        elif headers.get("transfer-encoding", "").lower() == "chunked":
            chunks = []
            while True:
                size = int((await self.reader.readuntil(b"\r\n")).split(b";")[0], 16)
                chunks.append(await self.reader.readexactly(size + 2))
                if size == 0:
                    break
            body = b"".join(chunk[:-2] for chunk in chunks)
        else:
            body = await self.reader.read()
            headers["connection"] = "close"
        if parts[0] == "HTTP/1.0" and headers.get("connection", "").lower() != "keep-alive":
            headers["connection"] = "close"
        return Reply(status, headers, cookies, body)


# --- the servers ------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Server:
    name: str
    port: int
    process: subprocess.Popen
    log: Path

    def signal(self, signum: int) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signum)  # the master and its workers

    def log_problems(self) -> list[str]:
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return [line for line in text.splitlines()
                if "Traceback" in line or "[ERROR]" in line or "WORKER TIMEOUT" in line
                or " ERROR " in line or "Exception" in line]


def stop_servers(servers: list[Server], timeout: float = 20) -> None:
    """SIGTERM to each gunicorn's process group, then SIGKILL to whatever is left (also when
    interrupted again while waiting)."""
    for server in servers:
        server.signal(signal.SIGTERM)
    deadline = time.monotonic() + timeout
    try:
        for server in servers:
            with contextlib.suppress(subprocess.TimeoutExpired):
                server.process.wait(timeout=max(0.1, deadline - time.monotonic()))
    finally:
        for server in servers:
            server.signal(signal.SIGKILL)  # stray workers of a master that is gone, too
            if server.process.poll() is None:
                server.process.wait(timeout=10)


@functools.cache
def _has_option(program: str, option: str) -> bool:
    done = subprocess.run([program, "--help"], capture_output=True, text=True, check=False)
    return option in done.stdout


def start_server(name: str, wsgi: str, logs: Path) -> Server:
    """gunicorn, as `cci dev` starts it (the repository as the working directory, the
    environment of this process: the bench's database schema and Redis), on a free port."""
    gunicorn = shutil.which("gunicorn", path=str(Path(sys.executable).parent)) or "gunicorn"
    port = free_port()
    log = logs / f"{name}.log"
    command = [gunicorn, "--bind", f"127.0.0.1:{port}", "--workers", str(GUNICORN_WORKERS),
               "--worker-class", WORKER_CLASS, "--backlog", "2048", "--log-level", "warning"]
    if WORKER_CLASS == "gthread":
        command += ["--threads", str(THREADS)]
    if _has_option(gunicorn, "--no-control-socket"):
        command.append("--no-control-socket")  # two masters would share ~/.gunicorn
    with log.open("wb") as out:
        process = subprocess.Popen([*command, wsgi], cwd=ROOT, env=dict(os.environ),
                                   stdout=out, stderr=subprocess.STDOUT,
                                   start_new_session=True)
    return Server(name, port, process, log)


async def wait_ready(server: Server, path: str, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while True:
        if server.process.poll() is not None:
            raise SystemExit(f"{server.name}: gunicorn exited ({server.process.returncode}); "
                             f"see {server.log}")
        connection = Connection(server.port, "127.0.0.1")
        try:
            reply = await connection.request("GET", path)
            if reply.status == 200:
                return
        except (OSError, HTTPError, asyncio.IncompleteReadError):
            pass
        finally:
            connection.close()
        if time.monotonic() > deadline:
            raise SystemExit(f"{server.name}: not ready after {timeout:.0f} s; see {server.log}")
        await asyncio.sleep(0.2)


# --- the data the bench needs ------------------------------------------------------------------


def open_campaign(app) -> tuple[int, list[tuple[int, int, str, str]]]:
    """A cci-2023 campaign covering today in every region of the bench (an earlier run's, on
    a data set kept with BENCH_REUSE, stretched to today: a region has one campaign a day);
    returns its id and the active offices (id, region id, region code, office code)."""
    from sqlalchemy import text

    today = dt.datetime.now(dt.UTC).date()  # the campaigns span months: any zone's date does
    dates = {"starts": today - dt.timedelta(days=40), "ends": today + dt.timedelta(days=30)}
    with app.extensions["cci.engine"].begin() as c:
        campaign_id = c.execute(text("""
            UPDATE campaigns SET starts_on = least(starts_on, :starts),
                                 ends_on = greatest(ends_on, :ends)
            WHERE name = 'bench submit' RETURNING id"""), dates).scalar()
        if campaign_id is None:
            campaign_id = c.execute(text("""
                INSERT INTO campaigns (name, methodology_key, starts_on, ends_on, is_sample,
                                       created_at)
                VALUES ('bench submit', 'cci-2023', :starts, :ends, true, now()) RETURNING id"""),
                dates).scalar_one()
            c.execute(text("INSERT INTO campaign_regions SELECT :c, id FROM regions"),
                      {"c": campaign_id})
        offices = [tuple(row) for row in c.execute(text(
            "SELECT o.id, o.region_id, r.code, o.code FROM offices o "
            "JOIN regions r ON r.id = o.region_id WHERE o.active ORDER BY o.id"))]
        from bench.ceiling import TABLE_SQL

        c.execute(text("DROP TABLE IF EXISTS bench_ceiling"))  # an earlier run's rows
        c.execute(text(TABLE_SQL))
    return campaign_id, offices


def register_kiosks(app, offices, count: int) -> list[tuple[int, int, str]]:
    """``count`` kiosks over the offices (round robin), each with a fresh pairing code, through
    the kiosk plugin (audit-logged as an admin's registration is). (kiosk id, office id, code)."""
    from cci.foundation import tenancy
    from cci.foundation.db import db
    from cci.foundation.models import Office

    from cci_channel_kiosk import devices

    registered = []
    with app.app_context():
        for n in range(count):
            office_id, region_id, _rc, _oc = offices[n % len(offices)]
            with tenancy.region_scope(region_id, "bench: register kiosks"):
                office = db.get(Office, office_id)
                kiosk, code = devices.register(office, f"Киоск {n + 1} (bench)", None)
                registered.append((kiosk.id, office_id, code))
        db.remove()
    return registered


def kiosk_address(n: int) -> str:
    return f"127.10.{n // 250}.{n % 250 + 1}"


def web_address(n: int) -> str:
    n %= 250 * 250
    return f"127.20.{n // 250}.{n % 250 + 1}"


CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')
TOKEN_RE = re.compile(r'data-token="([^"]+)"')


def _cookie_header(cookies: dict[str, str]) -> str:
    return "; ".join(f"{name}={value}" for name, value in cookies.items())


class StaffBrowser:
    """A staff member's browser on a connection of its own: keeps its cookies, logs in through
    the login form (the bench's page loads and the load drill's analysts alike)."""

    #: the login form's token wherever its attributes stand
    FORM_CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')

    def __init__(self, port: int, source: str, email: str, password: str):
        self.connection = Connection(port, source)
        self.cookies: dict[str, str] = {}
        self.email, self.password = email, password

    async def request(self, method: str, path: str, body: bytes = b""):
        headers = {"User-Agent": USER_AGENT, "Cookie": _cookie_header(self.cookies)}
        if body:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        reply = await asyncio.wait_for(self.connection.request(method, path, headers, body),
                                       REQUEST_TIMEOUT)
        self.cookies.update(reply.cookies)
        return reply

    async def log_in(self) -> None:
        page = await self.request("GET", "/login")
        csrf = self.FORM_CSRF.search(page.body.decode())
        if csrf is None:
            raise SystemExit("the login page has no form")
        form = urlencode({"csrf_token": csrf.group(1), "email": self.email,
                          "password": self.password}).encode()
        reply = await self.request("POST", "/login", form)
        if reply.status != 302:
            raise SystemExit(f"{self.email} could not log in: {reply.status}")


async def pair_kiosk(port: int, source: str, code: str) -> str:
    """Pair as the device does: the pairing page, the code typed in, the token it keeps."""
    connection = Connection(port, source)
    try:
        page = await connection.request("GET", "/k/pair", {"User-Agent": USER_AGENT})
        csrf = CSRF_RE.search(page.body.decode())
        if page.status != 200 or csrf is None:
            raise SystemExit(f"/k/pair: {page.status} without a form")
        form = urlencode({"csrf_token": csrf.group(1), "code": f"{code[:4]}-{code[4:]}"}).encode()
        reply = await connection.request("POST", "/k/pair", {
            "User-Agent": USER_AGENT, "Cookie": _cookie_header(page.cookies),
            "Content-Type": "application/x-www-form-urlencoded"}, form)
        token = TOKEN_RE.search(reply.body.decode())
        if reply.status != 200 or token is None or "cci_kiosk" not in reply.cookies:
            raise SystemExit(f"pairing failed: {reply.status} {reply.body[:300]!r}")
        return token.group(1)
    finally:
        connection.close()


CONFIG_RE = re.compile(r'data-config="([^"]+)"')


async def kiosk_config(port: int, source: str, token: str) -> dict:
    """The survey screen the paired device opens (with the cookie set at pairing): its script's
    configuration (the API's addresses, the app version it reports)."""
    connection = Connection(port, source)
    try:
        reply = await connection.request("GET", "/k/", {"User-Agent": USER_AGENT,
                                                         "Cookie": f"cci_kiosk={token}"})
    finally:
        connection.close()
    found = CONFIG_RE.search(reply.body.decode())
    if reply.status != 200 or found is None:
        raise SystemExit(f"/k/: {reply.status} without the kiosk's configuration")
    return json.loads(html.unescape(found.group(1)))


async def questionnaire(port: int, source: str, token: str) -> dict:
    connection = Connection(port, source)
    try:
        reply = await connection.request("GET", "/k/api/questionnaire",
                                         {"User-Agent": USER_AGENT, "X-Kiosk-Token": token})
    finally:
        connection.close()
    data = reply.json()
    if reply.status != 200 or not isinstance(data, dict):
        raise SystemExit(f"/k/api/questionnaire: {reply.status} {reply.body[:300]!r}")
    return data


# --- respondents ----------------------------------------------------------------------------


def _iso(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass
class Person:
    """One respondent's answers to the questionnaire the kiosk downloaded, with the seconds
    spent on each step."""

    rtype: str
    answers: dict[str, str]
    profile: dict[str, str]
    comment: str
    timings: dict[str, float]


def person(rnd: random.Random, form: dict) -> Person:
    rtype = "job_seeker" if rnd.random() < 0.72 else "employer"
    # most clients of an employment service are fairly satisfied; some are not at all
    mood = min(10.0, max(1.0, rnd.gauss(7.6, 2.0)))
    spread = rnd.uniform(0.7, 2.3)
    answers: dict[str, str] = {}
    profile: dict[str, str] = {}
    comment = ""
    timings = {"respondent_type": round(rnd.uniform(2.0, 7.0), 1)}
    for step in form["types"][rtype]:
        given = profile if step["section"] == "profile" else answers
        follows = step.get("follows")
        if follows and str(given.get(follows[0])) != follows[1]:
            continue
        seconds = rnd.lognormvariate(math.log(5.5), 0.45)
        if step["kind"] == "text":
            if rnd.random() < 0.15:
                comment = rnd.choice(COMMENTS)
                seconds = rnd.uniform(25, 90)
            else:
                seconds = rnd.uniform(1.5, 5)
        elif step.get("scale"):
            if step["allowsNa"] and rnd.random() < 0.05:
                given[step["key"]] = "na"
            else:
                value = round(rnd.gauss(mood, spread))
                given[step["key"]] = str(min(step["scale"][-1], max(step["scale"][0], value)))
        else:
            na = 0.15 if step["section"] == "profile" else 0.05
            if step["allowsNa"] and rnd.random() < na:
                given[step["key"]] = "na"
            else:
                given[step["key"]] = rnd.choice([c["value"] for c in step["choices"]])
        timings[step["key"]] = round(min(seconds, 120.0), 1)
    return Person(rtype, answers, profile, comment, timings)


class Kiosk:
    """A paired device with its clock: it walks through the office hours of a recent day,
    a respondent every few minutes (the API takes answers up to 30 days old)."""

    def __init__(self, n: int, kiosk_id: int, token: str, tz: zoneinfo.ZoneInfo,
                 form: dict, app_version: str, run: int = 0):
        self.n = n
        self.kiosk_id = kiosk_id
        self.token = token
        self.source = kiosk_address(n)
        self.tz = tz
        self.form = form
        self.app_version = app_version
        self.rnd = random.Random(1000 + n + 1_000_000 * run)  # each run's answers its own
        self.connections: dict[int, Connection] = {}
        self.headers = {"User-Agent": USER_AGENT, "Content-Type": "application/json",
                        "X-Kiosk-Token": token}
        self.clock = self._morning(dt.datetime.now(self.tz).date()
                                   - dt.timedelta(days=self.rnd.randint(2, 25)))

    def _morning(self, day: dt.date) -> dt.datetime:
        local = dt.datetime.combine(day, OPENS, tzinfo=self.tz)
        return local + dt.timedelta(minutes=self.rnd.uniform(0, 90))

    def connection(self, port: int) -> Connection:
        if port not in self.connections:
            self.connections[port] = Connection(port, self.source)
        return self.connections[port]

    def close(self) -> None:
        for connection in self.connections.values():
            connection.close()

    def survey(self) -> tuple[str, bytes]:
        """The next respondent's finished survey as the kiosk posts it: (key, body)."""
        rnd = self.rnd
        who = person(rnd, self.form)
        total = sum(who.timings.values()) + rnd.uniform(1, 6)
        started = self.clock
        finished = started + dt.timedelta(seconds=total)
        if finished.astimezone(self.tz).time() >= CLOSES:
            started = self._morning(started.astimezone(self.tz).date() + dt.timedelta(days=1))
            finished = started + dt.timedelta(seconds=total)
        if finished > dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5):
            started = self._morning(dt.datetime.now(self.tz).date() - dt.timedelta(days=25))
            finished = started + dt.timedelta(seconds=total)
        # the next person comes up after a while (idle attract screen, a queue in the office)
        self.clock = finished + dt.timedelta(seconds=rnd.uniform(30, 420))
        key = str(uuid.UUID(int=rnd.getrandbits(128), version=4))
        body = {"key": key, "respondent_type": who.rtype, "answers": who.answers,
                "profile": who.profile, "comment": who.comment,
                "started_at": _iso(started), "finished_at": _iso(finished),
                "timings": who.timings, "app_version": self.app_version}
        return key, json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()


# --- phases ----------------------------------------------------------------------------------


@dataclass
class Tally:
    accepted: int = 0
    repeated: int = 0
    requests: int = 0
    errors: Counter = field(default_factory=Counter)
    samples: list[str] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)
    elapsed: float = 0.0

    def error(self, kind: str, detail: str = "") -> None:
        self.errors[kind] += 1
        if len(self.samples) < 5:
            self.samples.append(f"{kind}: {detail}"[:300])

    @property
    def error_count(self) -> int:
        return sum(self.errors.values())

    def per_second(self) -> float:
        return self.accepted / self.elapsed if self.elapsed else 0.0

    def percentile(self, p: float) -> float:
        """Nearest-rank percentile of the request latencies, in ms."""
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        return 1000 * ordered[min(len(ordered) - 1, max(0, math.ceil(p / 100 * len(ordered)) - 1))]


async def kiosk_phase(port: int, kiosks: list[Kiosk], clients: int, seconds: float,
                      accepted_keys: set[str], pause=None) -> Tally:
    """``clients`` concurrent senders for ``seconds``; sender c delivers for kiosks c,
    c + clients, … in turn (each kiosk sends one answer at a time, as a device does);
    ``pause()``, when given, is the seconds a sender waits after each delivery (`make load`
    paces its kiosks; the bench sends back to back)."""
    tally = Tally()
    loop = asyncio.get_running_loop()
    started = loop.time()
    deadline = started + seconds

    async def sender(c: int) -> None:
        mine = kiosks[c::clients]
        turn = 0
        while loop.time() < deadline:
            kiosk = mine[turn % len(mine)]
            turn += 1
            key, body = kiosk.survey()
            connection = kiosk.connection(port)
            tally.requests += 1
            began = time.perf_counter()
            try:
                reply = await asyncio.wait_for(
                    connection.request("POST", KIOSK_RESPONSES, kiosk.headers, body),
                    REQUEST_TIMEOUT)
            except TimeoutError:
                connection.close()
                tally.error("timeout", key)
                continue
            except (OSError, HTTPError, asyncio.IncompleteReadError) as exc:
                tally.error("connection", f"{type(exc).__name__}: {exc}")
                continue
            tally.latencies.append(time.perf_counter() - began)
            status = (reply.json() or {}).get("status") if reply.status in (200, 201) else None
            if reply.status == 201 and status == "stored":
                tally.accepted += 1
                accepted_keys.add(key)
            elif reply.status == 200 and status == "already received":
                tally.repeated += 1
            else:
                tally.error(f"HTTP {reply.status}", reply.body[:200].decode(errors="replace"))
            if pause is not None:
                await asyncio.sleep(pause())

    async with asyncio.TaskGroup() as group:
        for c in range(clients):
            group.create_task(sender(c))
    tally.elapsed = loop.time() - started
    return tally


FIELD_RE = re.compile(r'name="(answer|respondent_type)" value="([^"]*)"')


async def web_phase(port: int, offices, form: dict, clients: int, seconds: float,
                    accepted_tokens: set[str], run: int = 0, pause=None) -> Tally:
    """People at a time answering the web survey from their own addresses, as a browser with
    htmx does: the office's page, then one form post per step (the server answers each with
    the next card and its address in HX-Push-Url), up to the thanks; ``pause()``, when
    given, is the seconds a person reads each card (the bench answers at once)."""
    tally = Tally()
    loop = asyncio.get_running_loop()
    started = loop.time()
    deadline = started + seconds
    counter = iter(range(10 ** 9))

    async def call(connection: Connection, method: str, path: str, headers: dict,
                   body: bytes = b"") -> Reply | None:
        tally.requests += 1
        began = time.perf_counter()
        try:
            reply = await asyncio.wait_for(connection.request(method, path, headers, body),
                                           REQUEST_TIMEOUT)
        except TimeoutError:
            connection.close()
            tally.error("timeout", path)
            return None
        except (OSError, HTTPError, asyncio.IncompleteReadError) as exc:
            tally.error("connection", f"{type(exc).__name__}: {exc}")
            return None
        tally.latencies.append(time.perf_counter() - began)
        return reply

    async def respondent(rnd: random.Random) -> None:
        n = next(counter)
        _oid, _rid, region_code, office_code = offices[n % len(offices)]
        connection = Connection(port, web_address(n))
        who = person(rnd, form)
        cookies: dict[str, str] = {}
        headers = {"User-Agent": USER_AGENT}
        try:
            url = f"/s/{quote(region_code)}/{quote(office_code)}"
            page = await call(connection, "GET", url, headers)
            if page is None:
                return
            cookies.update(page.cookies)
            csrf = CSRF_RE.search(page.body.decode())
            if page.status != 200 or csrf is None:
                tally.error(f"HTTP {page.status}", f"{url}: no survey form")
                return
            values = {"respondent_type": who.rtype}
            for _ in range(100):
                fields = {"csrf_token": csrf.group(1), **values}
                reply = await call(connection, "POST", url, {
                    **headers, "HX-Request": "true", "HX-Current-URL": url,
                    "Cookie": _cookie_header(cookies),
                    "Content-Type": "application/x-www-form-urlencoded"},
                    urlencode(fields).encode())
                if reply is None:
                    return
                cookies.update(reply.cookies)
                url = reply.headers.get("hx-push-url", "")
                if reply.status != 200 or not url:
                    tally.error(f"HTTP {reply.status}", reply.body[:200].decode(errors="replace"))
                    return
                if url.endswith("/done"):
                    tally.accepted += 1
                    accepted_tokens.add(url.split("/")[-2])
                    return
                if pause is not None:
                    await asyncio.sleep(pause())
                step_key = url.rsplit("/", 1)[-1]
                if step_key == "comment":
                    values = {"comment": who.comment}
                    continue
                value = who.answers.get(step_key, who.profile.get(step_key))
                if value is None:  # a follow-up the kiosk form would not ask: any offered
                    offered = [v for name, v in FIELD_RE.findall(reply.body.decode())
                               if name == "answer"]
                    value = rnd.choice(offered) if offered else "na"
                values = {"answer": value}
            tally.error("loop", url)
        finally:
            connection.close()

    async def client(c: int) -> None:
        rnd = random.Random(5000 + c + 1_000_000 * run)
        while loop.time() < deadline:
            await respondent(rnd)

    async with asyncio.TaskGroup() as group:
        for c in range(clients):
            group.create_task(client(c))
    tally.elapsed = loop.time() - started
    return tally


# --- costs per answer, in process ---------------------------------------------------------------


def costs_per_answer(app, kiosks: list[Kiosk], accepted_keys: set[str],
                     accepted_ceiling: set[str], n: int = 100) -> dict:
    """The same deliveries through the app in this process (Flask's test client): SQL
    statements, transactions and pool checkouts per answer (exact, unlike timings on a busy
    machine) and the CPU time of the request in this thread; the CPU time of the ceiling's
    app likewise."""
    from sqlalchemy import event
    from werkzeug.test import Client

    from bench import ceiling

    engine = app.extensions["cci.engine"]
    counts: Counter = Counter()

    def statement(*_args) -> None:
        counts["statements"] += 1

    def commit(*_args) -> None:
        counts["commits"] += 1

    def checkout(*_args) -> None:
        counts["checkouts"] += 1

    def deliver(client, kiosk: Kiosk, accepted: set[str], errors: str) -> None:
        key, body = kiosk.survey()
        reply = client.post(KIOSK_RESPONSES, data=body, headers=kiosk.headers,
                            environ_base={"REMOTE_ADDR": kiosk.source})
        if reply.status_code == 201:
            accepted.add(key)
        else:
            counts[errors] += 1

    client = app.test_client()
    for kiosk in kiosks[:10]:  # warm
        deliver(client, kiosk, accepted_keys, "errors")
    listeners = ((engine, "before_cursor_execute", statement), (engine, "commit", commit),
                 (engine.pool, "checkout", checkout))
    for target, name, fn in listeners:
        event.listen(target, name, fn)
    profile = None
    if os.environ.get("BENCH_SUBMIT_PROFILE"):
        import cProfile

        profile = cProfile.Profile(time.thread_time)  # CPU time, not waits on the database
    try:
        # a device's first delivery (the first of a queue delivered after a night offline),
        # then its next ones
        cold = kiosks[10:10 + min(n, len(kiosks) - 10)]
        cpu = time.thread_time()
        for kiosk in cold:
            deliver(client, kiosk, accepted_keys, "errors")
        cold_cpu = time.thread_time() - cpu
        first = Counter(counts)
        counts.clear()
        cpu = time.thread_time()
        if profile is not None:
            profile.enable()
        for i in range(n):
            deliver(client, kiosks[i % 10], accepted_keys, "errors")
        if profile is not None:
            profile.disable()
        cpu = time.thread_time() - cpu
        counts["errors"] += first["errors"]
    finally:
        for target, name, fn in listeners:
            event.remove(target, name, fn)

    def cpu_per_delivery(client, accepted: set[str], errors: str) -> float:
        for kiosk in kiosks[:10]:  # warm
            deliver(client, kiosk, accepted, errors)
        started = time.thread_time()
        for i in range(n):
            deliver(client, kiosks[i % len(kiosks)], accepted, errors)
        return time.thread_time() - started

    bare_cpu = cpu_per_delivery(Client(ceiling.app), accepted_ceiling, "ceiling errors")
    floor_cpu = cpu_per_delivery(ceiling.flask_app.test_client(), set(), "floor errors")
    ceiling.engine.dispose()
    if profile is not None:
        profile.dump_stats(os.environ["BENCH_SUBMIT_PROFILE"])
        say(f"  profile of the in-process deliveries: {os.environ['BENCH_SUBMIT_PROFILE']}")
    return {
        "submit_sql_statements_per_answer": round(counts["statements"] / n, 2),
        "submit_transactions_per_answer": round(counts["commits"] / n, 2),
        "submit_pool_checkouts_per_answer": round(counts["checkouts"] / n, 2),
        "submit_cpu_ms_per_answer_in_process": round(1000 * cpu / n, 2),
        "submit_sql_statements_first_answer": round(first["statements"] / max(1, len(cold)), 2),
        "submit_cpu_ms_first_answer_in_process": round(1000 * cold_cpu / max(1, len(cold)), 2),
        "submit_in_process_errors": counts["errors"],
        "ceiling_cpu_ms_per_answer_in_process": round(1000 * bare_cpu / n, 2),
        "flask_floor_cpu_ms_per_answer_in_process": round(1000 * floor_cpu / n, 2),
    }


def background_jobs(app) -> int:
    """RQ jobs of the platform queued, running or scheduled (a debounced recompute)."""
    from rq import Queue
    from rq.registry import ScheduledJobRegistry
    from rq.registry import StartedJobRegistry

    connection = app.extensions["cci.redis"]
    return sum(queue.count + StartedJobRegistry(queue=queue).count
               + ScheduledJobRegistry(queue=queue).count
               for queue in Queue.all(connection=connection))


def wait_idle(app, timeout: float = 1800) -> float:
    """Wait until the platform's background work is done: the recompute the stored answers
    scheduled (60 s later, debounced). The next phase, the ceiling's especially, then does
    not pay for it. Returns the seconds waited."""
    started = time.perf_counter()
    while background_jobs(app) and time.perf_counter() - started < timeout:
        time.sleep(0.5)
    return time.perf_counter() - started


# --- the whole part ----------------------------------------------------------------------------


def stored_keys(app, prefix: str, keys_like: str, table: str = "responses",
                since: dt.datetime | None = None) -> set[str]:
    """The client keys stored (without ``prefix``); with ``since``, those received from then
    on (a data set kept with BENCH_REUSE holds the answers of earlier runs too)."""
    from sqlalchemy import text

    where = "client_key LIKE :p" + (" AND received_at >= :since" if since else "")
    with app.extensions["cci.engine"].connect() as c:
        rows = c.execute(text(f"SELECT client_key FROM {table} WHERE {where}"),
                         {"p": keys_like, "since": since}).scalars()
        return {key[len(prefix):] for key in rows}


def flags_by_channel(app, campaign_id: int,
                     since: dt.datetime) -> dict[str, tuple[int, int, dict[str, int]]]:
    """channel -> (responses stored, of them flagged, {rule: responses it flagged}), of the
    responses received from ``since`` on."""
    from sqlalchemy import text

    params = {"c": campaign_id, "since": since}
    with app.extensions["cci.engine"].connect() as c:
        totals = c.execute(text(
            "SELECT channel, count(*), count(*) FILTER (WHERE review_status IS NOT NULL) "
            "FROM responses WHERE campaign_id = :c AND received_at >= :since "
            "GROUP BY channel ORDER BY channel"), params).all()
        rules = c.execute(text(
            "SELECT r.channel, f.rule, count(*) FROM response_flags f "
            "JOIN responses r ON r.id = f.response_id "
            "WHERE f.campaign_id = :c AND r.received_at >= :since "
            "GROUP BY 1, 2 ORDER BY 1, 3 DESC"), params).all()
    out = {channel: (stored, flagged, {}) for channel, stored, flagged in totals}
    for channel, rule, count in rules:
        out.setdefault(channel, (0, 0, {}))[2][rule] = count
    return out


def _ms(value: float) -> float | None:
    return round(value, 1) if value == value else None  # no requests: null, not NaN


def _line(name: str, tally: Tally) -> str:
    return (f"  {name:<22} {tally.accepted:>6} stored in {tally.elapsed:5.1f} s = "
            f"{tally.per_second():7.1f}/s; p50 {tally.percentile(50):6.1f} ms, "
            f"p95 {tally.percentile(95):6.1f} ms, p99 {tally.percentile(99):6.1f} ms; "
            f"errors {tally.error_count}")


def cpu_line(ms: dict[str, float], unit: str = "answer") -> str:
    """What one answer (or page) cost each group of processes during the phase, in ms of CPU."""
    if not ms:
        return f"    CPU per {unit}: no {unit}s"
    parts = ", ".join(f"{CPU_GROUPS[name]} {ms[name]:.2f}" for name in CPU_GROUPS if name in ms)
    return (f"    CPU per {unit}, ms: {parts}; the machine in all {ms['machine']:.2f} "
            f"({os.cpu_count()} cores)")


#: the groups of bench.cpu.bench_groups as the report names them, and what no group accounts for
CPU_GROUPS = {"web": "gunicorn", "jobs": "RQ jobs", "database": "PostgreSQL",
              "redis": "Redis", "load": "load generator", "other": "other processes and the kernel"}


async def _run(app, offices, registered, logs: Path, results: dict) -> None:
    from sqlalchemy import text

    with app.extensions["cci.engine"].connect() as c:
        run_started = c.execute(text("SELECT now()")).scalar_one()
    # the runs before this one on a kept data set (BENCH_REUSE), each with its own kiosks
    run = (registered[0][0] - 1) // KIOSKS if registered else 0

    servers: list[Server] = []
    kiosks: list[Kiosk] = []
    # The recomputes the answers schedule run meanwhile, on the same machine, as in
    # production: their work is part of what the platform's throughput costs.
    workers = contextlib.ExitStack()
    worker_pids = workers.enter_context(running_workers(app))
    say(f"  {WORKERS} RQ workers (the recomputes the answers schedule run meanwhile)")
    try:
        say(f"  gunicorn: {GUNICORN_WORKERS} {WORKER_CLASS} workers"
            + (f" × {THREADS} threads" if WORKER_CLASS == "gthread" else "")
            + " each for the platform (wsgi:app), the ceiling (bench.ceiling:app) and the "
              "Flask floor (bench.ceiling:flask_app)")
        real = start_server("platform", "wsgi:app", logs)
        servers.append(real)
        ceiling = start_server("ceiling", "bench.ceiling:app", logs)
        servers.append(ceiling)
        floor = start_server("flask-floor", "bench.ceiling:flask_app", logs)
        servers.append(floor)
        await asyncio.gather(wait_ready(real, "/healthz"), wait_ready(ceiling, "/"),
                             wait_ready(floor, "/"))

        started = time.perf_counter()
        limit = asyncio.Semaphore(8)

        async def pair(n: int, kiosk_id: int, code: str) -> tuple[int, int, str]:
            async with limit:
                return n, kiosk_id, await pair_kiosk(real.port, kiosk_address(n), code)

        paired = await asyncio.gather(*(pair(n, kiosk_id, code)
                                        for n, (kiosk_id, _office, code) in enumerate(registered)))
        config = await kiosk_config(real.port, kiosk_address(0), paired[0][2])
        if config.get("responsesUrl") != KIOSK_RESPONSES:
            raise SystemExit(f"the kiosk posts to {config.get('responsesUrl')}, "
                             f"not {KIOSK_RESPONSES}")
        form = await questionnaire(real.port, kiosk_address(0), paired[0][2])
        if form.get("campaign") is None:
            raise SystemExit("the kiosks see no open campaign")
        with app.extensions["cci.engine"].connect() as c:
            tz = zoneinfo.ZoneInfo(c.execute(text("SELECT timezone FROM regions ORDER BY id "
                                                  "LIMIT 1")).scalar_one())
        kiosks = [Kiosk(n, kiosk_id, token, tz, form, str(config.get("appVersion", "")), run)
                  for n, kiosk_id, token in paired]
        say(f"  {len(kiosks)} kiosks registered and paired over HTTP over {len(offices)} offices "
            f"in {time.perf_counter() - started:.1f} s; campaign {form['campaign']} open")

        accepted_real: set[str] = set()
        accepted_ceiling: set[str] = set()
        accepted_floor: set[str] = set()
        real_tallies: list[Tally] = []
        for port, keys, tallies in ((real.port, accepted_real, real_tallies),
                                    (ceiling.port, accepted_ceiling, []),
                                    (floor.port, accepted_floor, [])):
            tallies.append(await kiosk_phase(port, kiosks, LATENCY_CLIENTS, WARMUP_SECONDS, keys))

        say(f"saturation: {SATURATION_CLIENTS} concurrent kiosk senders for "
            f"{SATURATION_SECONDS:.0f} s each")
        meter = cpu.Meter(cpu.bench_groups(real.process.pid, worker_pids)).start()
        sat_real = await kiosk_phase(real.port, kiosks, SATURATION_CLIENTS, SATURATION_SECONDS,
                                     accepted_real)
        meter.stop()
        # a 201 is sent once the answer is stored with its flags: the phase's rate, from its
        # first delivery to its last answer stored, is the stored throughput
        say(_line("platform", sat_real))
        cpu_real = meter.ms_each(sat_real.accepted)
        say(cpu_line(cpu_real))
        say(f"  the platform's background work (the recompute the answers scheduled) done "
            f"{wait_idle(app):.0f} s after the phase")
        meter = cpu.Meter(cpu.bench_groups(ceiling.process.pid, worker_pids)).start()
        sat_ceiling = await kiosk_phase(ceiling.port, kiosks, SATURATION_CLIENTS,
                                        SATURATION_SECONDS, accepted_ceiling)
        meter.stop()
        cpu_ceiling = meter.ms_each(sat_ceiling.accepted)
        say(_line("ceiling (one INSERT)", sat_ceiling))
        say(cpu_line(cpu_ceiling))
        meter = cpu.Meter(cpu.bench_groups(floor.process.pid, worker_pids)).start()
        sat_floor = await kiosk_phase(floor.port, kiosks, SATURATION_CLIENTS, SATURATION_SECONDS,
                                      accepted_floor)
        meter.stop()
        cpu_floor = meter.ms_each(sat_floor.accepted)
        say(_line("Flask floor", sat_floor))
        say(cpu_line(cpu_floor))

        say(f"latency: {LATENCY_CLIENTS} concurrent kiosk senders for {LATENCY_SECONDS:.0f} s each")
        lat_real = await kiosk_phase(real.port, kiosks, LATENCY_CLIENTS, LATENCY_SECONDS,
                                     accepted_real)
        say(_line("platform", lat_real))
        say(f"  the platform's background work done {wait_idle(app):.0f} s later")
        lat_ceiling = await kiosk_phase(ceiling.port, kiosks, LATENCY_CLIENTS, LATENCY_SECONDS,
                                        accepted_ceiling)
        say(_line("ceiling (one INSERT)", lat_ceiling))
        lat_floor = await kiosk_phase(floor.port, kiosks, LATENCY_CLIENTS, LATENCY_SECONDS,
                                      accepted_floor)
        say(_line("Flask floor", lat_floor))
        real_tallies += [sat_real, lat_real]

        web = Tally()
        accepted_web: set[str] = set()
        if WEB_SECONDS > 0:
            say(f"web survey: {WEB_CLIENTS} respondents at a time for {WEB_SECONDS:.0f} s "
                f"(one request per step, about {len(form['types']['job_seeker']) + 2} per answer)")
            web = await web_phase(real.port, offices, form, WEB_CLIENTS, WEB_SECONDS,
                                  accepted_web, run)
            say(_line("platform, web", web)
                + f"; {web.requests / web.elapsed if web.elapsed else 0:.0f} requests/s")
    finally:
        for kiosk in kiosks:
            kiosk.close()
        stop_servers(servers)
        workers.close()

    costs = costs_per_answer(app, kiosks, accepted_real, accepted_ceiling)
    say(f"in process: {costs['submit_sql_statements_per_answer']:.1f} SQL statements, "
        f"{costs['submit_transactions_per_answer']:.1f} transactions, "
        f"{costs['submit_pool_checkouts_per_answer']:.1f} pool checkouts (each with a pre-ping) "
        f"and {costs['submit_cpu_ms_per_answer_in_process']:.1f} ms of CPU per kiosk answer "
        f"stored with its quality flags ({costs['submit_sql_statements_first_answer']:.1f} "
        f"statements and {costs['submit_cpu_ms_first_answer_in_process']:.1f} ms for a "
        f"device's first) "
        f"(the ceiling: 1 statement, 1 transaction, "
        f"{costs['ceiling_cpu_ms_per_answer_in_process']:.1f} ms of CPU; the Flask floor "
        f"{costs['flask_floor_cpu_ms_per_answer_in_process']:.1f} ms)")

    # --- lost answers: what was acknowledged against what is stored --------------------------
    stored_real = stored_keys(app, "kiosk:", "kiosk:%", since=run_started)
    stored_ceiling = stored_keys(app, "ceiling:", "ceiling:%", "bench_ceiling")
    stored_web = stored_keys(app, "web:", "web:%", since=run_started)
    lost_kiosk = len(accepted_real - stored_real)
    lost_web = len(accepted_web - stored_web)
    extra_kiosk = len(stored_real - accepted_real)
    extra_web = len(stored_web - accepted_web)
    lost_ceiling = len(accepted_ceiling - stored_ceiling)
    lost_floor = len(accepted_floor - stored_keys(app, "flask:", "flask:%", "bench_ceiling"))
    kiosk_errors = sum(t.error_count for t in real_tallies)
    problems = {server.name: server.log_problems() for server in servers}
    flags = flags_by_channel(app, form["campaign"], run_started)

    stored_rate = sat_real.per_second()
    ratio = stored_rate / sat_ceiling.per_second() if sat_ceiling.per_second() else 0.0
    floor_ratio = (sat_floor.per_second() / sat_ceiling.per_second()
                   if sat_ceiling.per_second() else 0.0)
    results.update(
        submit_stored_per_second=round(stored_rate, 1),
        submit_stored_ratio_to_ceiling=round(ratio, 3),
        submit_p50_ms=_ms(lat_real.percentile(50)),
        submit_p95_ms=_ms(lat_real.percentile(95)),
        submit_p99_ms=_ms(lat_real.percentile(99)),
        submit_errors=kiosk_errors + web.error_count + costs["submit_in_process_errors"],
        submit_lost=lost_kiosk + lost_web,
        submit_unacknowledged=extra_kiosk + extra_web,
        ceiling_per_second=round(sat_ceiling.per_second(), 1),
        ceiling_p50_ms=_ms(lat_ceiling.percentile(50)),
        ceiling_p99_ms=_ms(lat_ceiling.percentile(99)),
        ceiling_errors=sat_ceiling.error_count + lat_ceiling.error_count,
        ceiling_lost=lost_ceiling,
        flask_floor_per_second=round(sat_floor.per_second(), 1),
        flask_floor_ratio_to_ceiling=round(floor_ratio, 3),
        flask_floor_p99_ms=_ms(lat_floor.percentile(99)),
        flask_floor_errors=sat_floor.error_count + lat_floor.error_count,
        flask_floor_lost=lost_floor,
        submit_stored_ratio_to_flask_floor=(round(stored_rate / sat_floor.per_second(), 3)
                                            if sat_floor.per_second() else 0.0),
        submit_saturation_p99_ms=_ms(sat_real.percentile(99)),
        submit_clients_saturation=SATURATION_CLIENTS,
        submit_clients_latency=LATENCY_CLIENTS,
        submit_seconds_saturation=SATURATION_SECONDS,
        submit_seconds_latency=LATENCY_SECONDS,
        submit_kiosks=len(kiosks),
        submit_gunicorn_workers=GUNICORN_WORKERS,
        submit_accepted=len(accepted_real) + len(accepted_web),
        web_answers=web.accepted,
        web_answers_per_second=round(web.per_second(), 1),
        web_requests_per_second=round(web.requests / web.elapsed, 1) if web.elapsed else 0.0,
        web_request_p50_ms=_ms(web.percentile(50)),
        web_request_p99_ms=_ms(web.percentile(99)),
        web_errors=web.error_count,
        web_lost=lost_web,
        submit_cpu_ms_per_answer_saturation=cpu_real,
        ceiling_cpu_ms_per_answer_saturation=cpu_ceiling,
        flask_floor_cpu_ms_per_answer_saturation=cpu_floor,
    )
    results.update(costs)
    stored, flagged, _rules = flags.get("kiosk", (0, 0, {}))
    results["submit_flagged_share"] = round(flagged / stored, 3) if stored else 0.0

    say(f"answers acknowledged: kiosk {len(accepted_real)}, web {len(accepted_web)}; stored: "
        f"kiosk {len(stored_real)}, web {len(stored_web)}; lost {lost_kiosk + lost_web}, "
        f"stored without acknowledgement {extra_kiosk + extra_web} "
        f"(ceiling: {len(accepted_ceiling)} acknowledged, {lost_ceiling} lost; Flask floor: "
        f"{len(accepted_floor)} acknowledged, {lost_floor} lost)")
    for channel, (stored, flagged, rules) in flags.items():
        say(f"  {channel}: {flagged} of {stored} stored answers flagged by the quality rules"
            + (f" ({', '.join(f'{rule} {n}' for rule, n in rules.items())})" if rules else "")
            + " — flagged answers are stored and acknowledged, not errors")
    kiosk_errors_by_kind: Counter = Counter()
    for tally in real_tallies:
        kiosk_errors_by_kind.update(tally.errors)
    for channel, errors, samples in (
            ("kiosk", kiosk_errors_by_kind, [x for t in real_tallies for x in t.samples]),
            ("web", web.errors, web.samples)):
        if errors:
            say(f"  {channel} errors: {dict(errors)}; e.g. {samples[:3]}")
    for name, lines in problems.items():
        if lines:
            say(f"  {name} server log: {len(lines)} problem lines, e.g. {lines[:3]}")

    verdict = lambda ok: "ok" if ok else "MISSED"  # noqa: E731
    say(f"submit: {results['submit_stored_per_second']:.0f} answers/s stored with their flags "
        f"at saturation = "
        f"{ratio:.2f} × ceiling {results['ceiling_per_second']:.0f}/s (goal ≥ {GOAL_RATIO}: "
        f"{verdict(ratio >= GOAL_RATIO)}); p99 at {LATENCY_CLIENTS} clients "
        f"{lat_real.percentile(99):.1f} ms (goal < {GOAL_P99_MS:.0f}: "
        f"{verdict(lat_real.percentile(99) < GOAL_P99_MS)}; ceiling "
        f"{lat_ceiling.percentile(99):.1f} ms); errors {results['submit_errors']} (goal 0: "
        f"{verdict(results['submit_errors'] == 0)}); lost {results['submit_lost']} (goal 0: "
        f"{verdict(results['submit_lost'] == 0 and results['submit_unacknowledged'] == 0)})")
    say(f"  the Flask floor (the same INSERT in a bare Flask view): "
        f"{results['flask_floor_per_second']:.0f}/s = {floor_ratio:.2f} × ceiling, p99 "
        f"{lat_floor.percentile(99):.1f} ms at {LATENCY_CLIENTS} clients; the platform does "
        f"{results['submit_stored_ratio_to_flask_floor']:.2f} × the Flask floor")


def bench_submit(app, campaign_id: int, results: dict) -> None:
    """``campaign_id`` is the data set's campaign (2025-Q2): answers go to the campaign open
    today, so one is opened for the bench's regions."""
    submit_campaign, offices = open_campaign(app)
    say(f"submission path: campaign {submit_campaign} (cci-2023) open today in every region "
        f"(the data set's campaign {campaign_id} ended in 2025)")
    registered = register_kiosks(app, offices, KIOSKS)
    logs = Path(tempfile.mkdtemp(prefix="cci-bench-submit-"))
    previous = {signum: signal.getsignal(signum) for signum in (signal.SIGINT, signal.SIGTERM)}

    def _interrupt(_signum, _frame):
        raise KeyboardInterrupt

    # Ctrl-C and kill stop the gunicorns too, also when started in the background (where
    # SIGINT arrives ignored); asyncio turns SIGINT into cancelling the run.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        asyncio.run(_run(app, offices, registered, logs, results))
    except BaseException:
        say(f"  server logs kept in {logs}")
        raise
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    if not any(results.get(k) for k in ("submit_errors", "submit_lost", "submit_unacknowledged")):
        shutil.rmtree(logs, ignore_errors=True)
    else:
        say(f"  server logs kept in {logs}")
