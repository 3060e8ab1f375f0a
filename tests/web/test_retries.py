"""Which failures the web service retries: a request the IdP may have acted on is not sent twice."""
from __future__ import annotations

from dataclasses import asdict
from types import SimpleNamespace

import pytest

from service.environments import resolve
from service.errors import NetworkError, NoResponseError
from service.web import flows

CTX = SimpleNamespace(retries=3, retry_delay=0.0, timeout=1.0)


def failing(errors: list[Exception], calls: list[int], result: str = "done"):
    """A call that raises each of ``errors`` in turn, then returns ``result``."""
    def call() -> str:
        calls.append(1)
        if len(calls) <= len(errors):
            raise errors[len(calls) - 1]
        return result
    return call


@pytest.mark.parametrize("error", [NetworkError("cannot reach"), NoResponseError("no answer")])
def test_by_default_every_network_error_is_retried(error):
    calls: list[int] = []
    assert flows.with_retries(CTX, failing([error] * 2, calls)) == "done"
    assert len(calls) == 3
    calls.clear()
    with pytest.raises(type(error)):
        flows.with_retries(CTX, failing([error] * 10, calls))
    assert len(calls) == CTX.retries + 1


def test_unanswered_calls_can_be_left_unretried():
    calls: list[int] = []
    assert flows.with_retries(CTX, failing([NetworkError("cannot reach")], calls), retry_unanswered=False) == "done"
    assert len(calls) == 2
    calls.clear()
    with pytest.raises(NoResponseError):
        flows.with_retries(CTX, failing([NetworkError("cannot reach"), NoResponseError("no answer")], calls),
                           retry_unanswered=False)
    assert len(calls) == 2  # the refused attempt, then the unanswered one: not a third


def test_a_code_exchange_the_idp_may_have_used_is_not_sent_again(monkeypatch):
    calls: list[int] = []
    call = failing([NoResponseError("no answer")], calls)
    monkeypatch.setattr(flows.api, "exchange_code", lambda *args, **kwargs: call())
    pending = SimpleNamespace(data={"server_endpoints": asdict(resolve("http://127.0.0.1:1"))},
                              redirect_uri="http://127.0.0.1:2/callback", code_verifier="v" * 43,
                              client_id="pkce-client")
    with pytest.raises(NoResponseError):
        flows.exchange(CTX, pending, "the-code")
    assert len(calls) == 1
