"""The mock IdP under gunicorn with mixed traffic: 5xx, worker memory, worker death, restart.

Used by test_idp_load.py (a short run inside `make test`) and by `make soak`
(`python -m tests.robustness.soak`, the full 60 s run whose figures docs/reliability.md reports).
"""
from __future__ import annotations

import base64
import contextlib
import os
import random
import signal
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

import requests

from mock_idp.testing import demo_seed, parse_login_form
from devtools.servers import MOCK_IDP_ARGS, gunicorn

from .loadgen import LoadResult, Operation, run_load
from .procstat import children, rss_kib

TIMEOUT = 10.0
SEED = demo_seed()
ADMIN = next(c for c in SEED.clients if "admin" in c.roles)
IMPLICIT = next(c for c in SEED.clients if c.authorized_grant_type == "TOKEN")
USER = SEED.users[0]
REDIRECT = "http://localhost:8080"
BASIC = "Basic " + base64.b64encode(f"{ADMIN.id}:{ADMIN.secret}".encode()).decode()


@dataclass
class Issued:
    """Tokens the load received (thread-safe append), with when each arrived."""

    tokens: list[tuple[float, str]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, token: str) -> None:
        with self.lock:
            self.tokens.append((time.monotonic(), token))

    def latest(self) -> str | None:
        with self.lock:
            return self.tokens[-1][1] if self.tokens else None


@contextlib.contextmanager
def idp_under_gunicorn(db: Path, log: Path, workers: int = 2) -> Iterator[tuple[str, int]]:
    """The mock IdP as shipped (its gunicorn config) on a free port, every worker forked;
    yields (URL, master pid)."""
    env = {"MOCK_IDP_DB": str(db)}
    with gunicorn("mock_idp:create_app()", env=env, workers=workers, log_path=log,
                  extra_args=MOCK_IDP_ARGS) as (url, proc):
        # gunicorn forks its workers up to 0.1 s apart, and the first may answer /healthz
        # before the next exists: the figures are per worker.
        wait_workers(proc.pid, workers, exclude=set())
        yield url, proc.pid


def authorize_url(state: str = "load") -> str:
    return "/oauth/authorize?" + urlencode({"response_type": "token", "client_id": IMPLICIT.id,
                                            "redirect_uri": REDIRECT, "state": state})


def implicit_login(base: str, session: requests.Session) -> tuple[int, str | None]:
    """GET the login form, POST the demo user's credentials; (status, token or None)."""
    page = session.get(base + authorize_url(), timeout=TIMEOUT, allow_redirects=False)
    if page.status_code != 200:
        return page.status_code, None
    form = parse_login_form(page.text)
    fields = {**form.fields, "username": USER.username, "password": USER.password}
    done = session.post(base + "/oauth/authorize", data=fields, timeout=TIMEOUT,
                        allow_redirects=False)
    fragment = urlsplit(done.headers.get("Location", "")).fragment
    token = parse_qs(fragment).get("access_token", [None])[0]
    return done.status_code, token


def operations(base: str, cc_tokens: Issued, user_tokens: Issued) -> list[tuple[str, Operation]]:
    """One rotation of mixed traffic: token, users/me, tokens/me, authorize (form and login)."""

    def token(s: requests.Session) -> int:
        r = s.post(base + "/oauth/token", data={"grant_type": "client_credentials"},
                   headers={"Authorization": BASIC}, timeout=TIMEOUT)
        if r.status_code == 200:
            cc_tokens.add(r.json()["access_token"])
        return r.status_code

    def users_me(s: requests.Session) -> int:
        bearer = user_tokens.latest()
        return s.get(base + "/api/v2/users/me", headers={"Authorization": f"Bearer {bearer}"},
                     timeout=TIMEOUT).status_code

    def tokens_me(s: requests.Session) -> int:
        bearer = cc_tokens.latest() or user_tokens.latest()
        return s.get(base + "/api/v2/tokens/me", headers={"Authorization": f"Bearer {bearer}"},
                     timeout=TIMEOUT).status_code

    def authorize(s: requests.Session) -> int:
        return s.get(base + authorize_url(), timeout=TIMEOUT, allow_redirects=False).status_code

    def login(s: requests.Session) -> int:
        status, tok = implicit_login(base, s)
        if tok:
            user_tokens.add(tok)
        return status

    rotation = [("token", token), ("users/me", users_me), ("authorize", authorize),
                ("token", token), ("tokens/me", tokens_me), ("users/me", users_me),
                ("authorize", authorize), ("token", token), ("users/me", users_me),
                ("authorize+login", login)]
    return rotation


EXPECTED = {"token": {200}, "users/me": {200}, "tokens/me": {200}, "authorize": {200},
            "authorize+login": {302}}


def unexpected(result: LoadResult) -> dict[str, int]:
    return {f"{op} {status}": n for (op, status), n in result.statuses.items()
            if status not in EXPECTED[op]}


def token_valid(base: str, token: str, session: requests.Session) -> bool:
    r = session.get(base + "/api/v2/tokens/me", headers={"Authorization": f"Bearer {token}"},
                    timeout=TIMEOUT)
    return r.status_code == 200


def invalid_tokens(base: str, tokens: list[str]) -> list[str]:
    """Which of `tokens` the IdP no longer accepts (checked from 4 threads)."""
    bad: list[str] = []
    lock = threading.Lock()
    chunks = [tokens[i::4] for i in range(4)]

    def check(chunk: list[str]) -> None:
        with requests.Session() as s:
            for t in chunk:
                if not token_valid(base, t, s):
                    with lock:
                        bad.append(t)

    threads = [threading.Thread(target=check, args=(c,)) for c in chunks]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    return bad


def wait_workers(master: int, count: int, exclude: set[int], timeout: float = 30.0) -> list[int]:
    """Wait until master has `count` workers none of which is in `exclude`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        pids = children(master)
        if len(pids) == count and not set(pids) & exclude:
            return pids
        time.sleep(0.1)
    raise TimeoutError(f"gunicorn {master} did not get back to {count} workers: {children(master)}")


def sample(tokens: list[str], n: int, seed: int = 1) -> list[str]:
    return tokens if len(tokens) <= n else random.Random(seed).sample(tokens, n)


def soak(seconds: float, kill_seconds: float, workdir: Path, threads: int = 8,
         workers: int = 2, verify: int = 400) -> dict:
    """Run all three phases; returns the figures (the caller asserts on them)."""
    db = workdir / "mock_idp.sqlite3"
    cc, users = Issued(), Issued()
    figures: dict = {"seconds": seconds, "kill_seconds": kill_seconds, "workers": workers,
                     "threads": threads, "cpus": os.cpu_count()}
    with idp_under_gunicorn(db, workdir / "gunicorn-1.log", workers) as (base, master):
        with requests.Session() as s:   # a few user tokens before the load starts
            for _ in range(3):
                status, tok = implicit_login(base, s)
                assert status == 302 and tok, f"warm-up login failed: {status}"
                users.add(tok)
        ops = operations(base, cc, users)

        # Phase 1: steady mixed traffic; worker RSS after warm-up vs at the end.
        workers_at_start = children(master)
        rss: dict[str, dict[int, int]] = {"warm": {}, "end": {}}
        warm_at = max(2.0, seconds * 0.25)

        def tick(elapsed: float) -> None:
            if elapsed >= warm_at and not rss["warm"]:
                rss["warm"] = {pid: rss_kib(pid) for pid in children(master)}

        steady = run_load(ops, seconds, threads=threads, on_tick=tick)
        rss["end"] = {pid: rss_kib(pid) for pid in children(master)}
        figures["steady"] = steady.summary()
        figures["steady"]["unexpected"] = unexpected(steady)
        figures["steady"]["req_per_s"] = round(steady.requests / steady.seconds)
        figures["rss_kib"] = {str(pid): {"warm": rss["warm"].get(pid), "end": rss["end"].get(pid)}
                              for pid in workers_at_start}
        figures["rss_growth"] = {str(pid): round(rss["end"][pid] / rss["warm"][pid] - 1, 3)
                                 for pid in workers_at_start
                                 if pid in rss["warm"] and pid in rss["end"]}

        # Phase 2: SIGKILL one worker while traffic runs; gunicorn must replace it.
        before_phase = len(cc.tokens) + len(users.tokens)
        victim = children(master)[0]
        killed: dict = {}

        def kill_tick(elapsed: float) -> None:
            if elapsed >= kill_seconds / 3 and not killed:
                killed["at"] = time.monotonic()
                os.kill(victim, signal.SIGKILL)

        hit = run_load(ops, kill_seconds, threads=threads, on_tick=kill_tick)
        replaced = wait_workers(master, workers, exclude={victim})
        figures["kill"] = hit.summary()
        figures["kill"]["unexpected"] = unexpected(hit)
        figures["kill"]["victim"] = victim
        figures["kill"]["workers_after"] = replaced
        all_tokens = [t for _, t in cc.tokens] + [t for _, t in users.tokens]
        near_kill = [t for when, t in cc.tokens + users.tokens
                     if killed and abs(when - killed["at"]) < 2.0]
        checked = list(dict.fromkeys(near_kill + sample(all_tokens, verify)))
        figures["kill"]["tokens_issued_total"] = len(all_tokens)
        figures["kill"]["tokens_issued_before_phase"] = before_phase
        figures["kill"]["tokens_checked"] = len(checked)
        figures["kill"]["tokens_invalid"] = len(invalid_tokens(base, checked))

    # Phase 3: the same SQLite store under a new gunicorn: tokens still valid.
    with idp_under_gunicorn(db, workdir / "gunicorn-2.log", workers) as (base, _):
        checked = sample(all_tokens, verify, seed=2)
        figures["restart"] = {"tokens_checked": len(checked),
                              "tokens_invalid": len(invalid_tokens(base, checked))}
    return figures
