"""A clock the suite can move, for expiry checks on a mock it starts itself.

`create_app({"CLOCK": clock})` makes the mock read it; `with_clock_seam` adds
`POST /_conformance/clock` (form `advance=SECONDS`) in front of the app, which only the
suite's own in-process servers have (never the shipped mock).
"""
from __future__ import annotations

import time

from werkzeug.wrappers import Request, Response

SEAM_PATH = "/_conformance/clock"


class AdjustableClock:
    """Wall-clock time plus an offset the suite moves forward."""

    def __init__(self) -> None:
        self.offset = 0.0

    def __call__(self) -> float:
        return time.time() + self.offset

    def advance(self, seconds: float) -> None:
        self.offset += seconds


def with_clock_seam(app, clock: AdjustableClock):
    def middleware(environ, start_response):
        if environ.get("PATH_INFO") == SEAM_PATH and environ.get("REQUEST_METHOD") == "POST":
            request = Request(environ)
            try:
                clock.advance(float(request.form.get("advance", "")))
            except ValueError:
                return Response("advance=SECONDS expected", status=400)(environ, start_response)
            return Response(status=204)(environ, start_response)
        return app(environ, start_response)

    return middleware
