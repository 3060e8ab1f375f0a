"""The token fast path (token_wsgi.py) answers exactly as the Flask view does.

A plain request (exactly `application/x-www-form-urlencoded`) takes the fast path; the
same request with `; charset=utf-8` appended takes Flask's, which parses it the same
way; MOCK_IDP_TOKEN_FAST_PATH=0 sends every one through Flask. Flask's `request_started`
signal shows which path ran.
"""
from __future__ import annotations

import gc
import io
import logging
from urllib.parse import urlencode

import pytest
from flask import jsonify, request_started
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from werkzeug.datastructures import MultiDict
from werkzeug.formparser import FormDataParser
from werkzeug.test import EnvironBuilder

from mock_idp import create_app
from mock_idp.errors import oauth_error_response
from mock_idp.testing import app_config
from mock_idp.token_wsgi import parse_form, plain_body_length

from .conftest import CC, PKCE
from .test_robustness import headers as fuzz_headers
from .test_robustness import params
from .test_token_endpoint import basic

FORM = "application/x-www-form-urlencoded"
FLASK_FORM = FORM + "; charset=utf-8"
GRANT = "grant_type=client_credentials"
SETTINGS = settings(max_examples=150, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture])


@pytest.fixture(scope="module")
def shared_app(tmp_path_factory):
    return create_app(app_config(tmp_path_factory.mktemp("fast")))


@pytest.fixture
def flask_requests(app):
    """How many requests went through Flask's request cycle."""
    seen: list[str] = []

    def count(sender, **_extra):
        seen.append("flask")
    request_started.connect(count, app)
    yield seen
    request_started.disconnect(count, app)


def post(client, body: bytes | str, content_type: str, headers: dict | None = None, **kw):
    return client.post("/oauth/token", data=body, headers={"Content-Type": content_type,
                                                            **(headers or {})}, **kw)


def comparable(response) -> tuple:
    """Status, body and every header; a token's random parts (and so its length) left out."""
    body = response.get_json(silent=True)
    if isinstance(body, dict) and "access_token" in body:
        body = {**body, "access_token": len(body["access_token"]) > 40}
        headers = [(k, v) for k, v in response.headers.items() if k != "Content-Length"]
    else:  # errors: the very bytes
        body, headers = response.get_data(), list(response.headers.items())
    return response.status_code, body, sorted(headers)


# --- which path runs ---------------------------------------------------------------

def test_a_plain_request_skips_flask_and_a_charset_one_does_not(client, flask_requests):
    fast = post(client, GRANT, FORM, basic(CC.id, CC.secret))
    assert fast.status_code == 200 and flask_requests == []
    slow = post(client, GRANT, FLASK_FORM, basic(CC.id, CC.secret))
    assert slow.status_code == 200 and flask_requests == ["flask"]
    assert comparable(fast) == comparable(slow)


@pytest.mark.parametrize("body, content_type, extra", [
    (b"grant_type=client_credentials\xff", FORM, {}),           # not UTF-8: body handed back
    (GRANT, "application/json", {}),                            # another type
])
def test_unusual_requests_go_to_flask(client, flask_requests, body, content_type, extra):
    response = post(client, body, content_type, basic(CC.id, CC.secret), **extra)
    assert response.status_code == 400 and response.json["error"] == "invalid_request"
    assert flask_requests == ["flask"]


def test_a_chunked_request_goes_to_flask(client, flask_requests):
    """Whatever Content-Length says, a chunked body's length is its chunks' (RFC 9112 §6.3)."""
    response = post(client, GRANT, FORM, basic(CC.id, CC.secret),
                    environ_overrides={"HTTP_TRANSFER_ENCODING": "chunked"})
    assert response.status_code == 400 and response.json["error"] == "invalid_request"
    assert flask_requests == ["flask"]


class Unreadable(io.BytesIO):
    def read(self, *args):
        raise AssertionError("the body was read")


def test_credentials_in_the_url_are_refused_before_the_body_is_read(client, flask_requests):
    response = client.post("/oauth/token?client_secret=x", input_stream=Unreadable(),
                           headers={"Content-Type": FORM, **basic(CC.id, CC.secret)},
                           environ_overrides={"CONTENT_LENGTH": str(len(GRANT))})
    assert response.status_code == 400 and "never in the URL" in response.json["error_description"]
    assert flask_requests == ["flask"]


def test_the_body_limit_is_the_one_configured_now(app, client, flask_requests):
    app.config["MAX_CONTENT_LENGTH"] = 100
    response = post(client, GRANT + "&pad=" + "x" * 100, FORM, basic(CC.id, CC.secret))
    assert response.status_code == 413
    assert flask_requests == ["flask"]


def test_oversized_body_goes_to_flask_and_is_413(client, flask_requests):
    response = post(client, GRANT + "&pad=" + "x" * 70_000, FORM, basic(CC.id, CC.secret))
    assert response.status_code == 413 and response.json["error"] == "invalid_request"
    assert flask_requests == ["flask"]


def test_a_body_shorter_than_declared_is_left_to_flask(client, flask_requests):
    response = client.post("/oauth/token", input_stream=io.BytesIO(GRANT.encode()),
                           headers={"Content-Type": FORM, **basic(CC.id, CC.secret)},
                           environ_overrides={"CONTENT_LENGTH": "500"})
    assert response.status_code == 400 and response.json["error"] == "invalid_request"
    assert flask_requests == ["flask"]


def test_other_methods_and_paths_are_flask_s(client, flask_requests):
    assert client.get("/oauth/token").status_code == 405
    assert client.post("/oauth/token/", data=GRANT,
                       headers={"Content-Type": FORM}).status_code in (308, 404)
    assert flask_requests == ["flask", "flask"]


# --- the setting that turns it off ------------------------------------------------

@pytest.fixture(scope="module")
def flask_only_app(tmp_path_factory):
    return create_app(app_config(tmp_path_factory.mktemp("flask-only"), TOKEN_FAST_PATH=False))


def test_with_the_fast_path_off_a_plain_request_goes_through_flask(tmp_path, monkeypatch):
    monkeypatch.setenv("MOCK_IDP_TOKEN_FAST_PATH", "0")
    app = create_app(app_config(tmp_path))
    assert app.extensions["mock_idp"].settings.token_fast_path is False
    seen: list[str] = []
    request_started.connect(lambda sender, **_: seen.append("flask"), app, weak=False)
    response = post(app.test_client(), GRANT, FORM, basic(CC.id, CC.secret))
    assert response.status_code == 200 and response.json["token_type"] == "bearer"
    assert seen == ["flask"]


def test_the_fast_path_is_on_unless_turned_off(app):
    assert app.extensions["mock_idp"].settings.token_fast_path is True


@SETTINGS
@given(params, fuzz_headers)
def test_the_fast_path_answers_as_the_mock_without_it(shared_app, flask_only_app, form, hdrs):
    body = urlencode(list(form.items(multi=True)))
    hdrs = {k: v for k, v in hdrs.items() if k == "Authorization"}
    assert comparable(post(shared_app.test_client(), body, FORM, hdrs)) == \
        comparable(post(flask_only_app.test_client(), body, FORM, hdrs))


# --- same answers on both paths ----------------------------------------------------

@SETTINGS
@given(params, fuzz_headers)
def test_both_paths_answer_alike(shared_app, form, hdrs):
    client = shared_app.test_client()
    body = urlencode(list(form.items(multi=True)))
    hdrs = {k: v for k, v in hdrs.items() if k == "Authorization"}
    assert comparable(post(client, body, FORM, hdrs)) == \
        comparable(post(client, body, FLASK_FORM, hdrs))


@SETTINGS
@given(st.binary(max_size=60), st.sampled_from([{}, basic(CC.id, CC.secret)]))
def test_both_paths_answer_alike_for_raw_bodies(shared_app, body, hdrs):
    client = shared_app.test_client()
    assert comparable(post(client, body, FORM, hdrs)) == \
        comparable(post(client, body, FLASK_FORM, hdrs))


@pytest.mark.parametrize("body, hdrs", [
    (GRANT, basic(CC.id, CC.secret)),
    (f"{GRANT}&client_id={CC.id}&client_secret={CC.secret}", {}),
    (f"{GRANT}&client_secret=x", basic(CC.id, CC.secret)),
    (f"{GRANT}&{GRANT}", basic(CC.id, CC.secret)),
    (GRANT, basic(CC.id, "wrong")),
    (GRANT, {"Authorization": "Basic %%%"}),
    ("grant_type=authorization_code&code=nope&code_verifier=" + "v" * 43
     + f"&client_id={PKCE.id}&redirect_uri=http%3A%2F%2F127.0.0.1%3A8080%2Fcallback", {}),
    ("grant_type=password&username=a&password=b", basic(CC.id, CC.secret)),
    ("", basic(CC.id, CC.secret)),
])
def test_known_requests_answer_alike(client, body, hdrs):
    fast, slow = post(client, body, FORM, hdrs), post(client, body, FLASK_FORM, hdrs)
    assert comparable(fast) == comparable(slow)


def test_credentials_in_the_url_are_refused_on_either_path(client):
    fast, slow = (post(client, GRANT, ctype, basic(CC.id, CC.secret),
                       query_string="client_secret=" + CC.secret) for ctype in (FORM, FLASK_FORM))
    assert fast.status_code == 400 and "never in the URL" in fast.json["error_description"]
    assert comparable(fast) == comparable(slow)


def test_an_error_on_the_fast_path_is_flask_s_500_and_logged(app, client, flask_requests,
                                                             monkeypatch, caplog):
    store = app.extensions["mock_idp"].store

    def broken(*_args, **_kwargs):
        raise RuntimeError("boom")
    monkeypatch.setattr(store, "issue_token", broken)
    with caplog.at_level(logging.ERROR, logger="mock_idp"):
        response = post(client, GRANT, FORM, basic(CC.id, CC.secret))
    assert response.status_code == 500
    assert response.json["error"] == "server_error"
    assert response.headers["Cache-Control"] == "no-store"
    assert "boom" not in response.get_data(as_text=True)
    assert "unhandled error on POST /oauth/token" in caplog.text
    assert CC.secret not in caplog.text
    assert basic(CC.id, CC.secret)["Authorization"].split()[1] not in caplog.text
    assert flask_requests == []  # answered by Flask's handlers, not its request cycle


# --- the pure parts ----------------------------------------------------------------

@given(st.sampled_from(["invalid_request", "invalid_client"]), st.text(max_size=30))
def test_oauth_errors_are_written_as_jsonify_writes_them(shared_app, error, description):
    """Made without an app context (the fast path has none), byte for byte as Flask would."""
    ours = oauth_error_response(400, error, description)
    with shared_app.app_context():
        flask_s = jsonify({"error": error, "error_description": description})
    assert ours.get_data() == flask_s.get_data()
    assert ours.headers["Content-Type"] == flask_s.headers["Content-Type"]


def werkzeug_form(body: bytes) -> list[tuple[str, str]]:
    _stream, form, _files = FormDataParser().parse(io.BytesIO(body), FORM, len(body), {})
    return list(form.items(multi=True))


@given(st.one_of(st.binary(max_size=80),
                 st.text(max_size=40).map(lambda t: t.encode()),
                 # percent escapes, some of them not UTF-8 once decoded (%FF, %C3 alone)
                 st.text("%CF3Fa9+=&;x", max_size=40).map(lambda t: t.encode()),
                 st.lists(st.tuples(st.text(max_size=8), st.text(max_size=8)), max_size=5)
                 .map(lambda pairs: urlencode(pairs).encode())))
def test_parse_form_is_werkzeug_s_parse(body):
    fields = parse_form(body)
    if fields is None:  # not UTF-8: werkzeug's form is empty, and Flask's path answers
        with pytest.raises(UnicodeDecodeError):
            body.decode()
        assert werkzeug_form(body) == []
    else:
        # As the fast path holds them: a MultiDict groups repeated names.
        assert list(MultiDict(fields).items(multi=True)) == werkzeug_form(body)


plain = {"REQUEST_METHOD": "POST", "PATH_INFO": "/oauth/token", "CONTENT_TYPE": FORM,
         "CONTENT_LENGTH": "29"}


def test_plain_body_length_of_a_plain_request():
    assert plain_body_length(plain, 100) == 29
    assert plain_body_length({**plain, "CONTENT_LENGTH": "0"}, 100) == 0
    assert plain_body_length({**plain, "CONTENT_LENGTH": "100"}, 100) == 100


@pytest.mark.parametrize("change", [
    {"REQUEST_METHOD": "GET"}, {"REQUEST_METHOD": "post"}, {"PATH_INFO": "/oauth/token/"},
    {"PATH_INFO": "/OAUTH/TOKEN"}, {"CONTENT_TYPE": FLASK_FORM}, {"CONTENT_TYPE": ""},
    {"CONTENT_LENGTH": "101"}, {"CONTENT_LENGTH": ""}, {"CONTENT_LENGTH": "-1"},
    {"CONTENT_LENGTH": "+5"}, {"CONTENT_LENGTH": " 5"}, {"CONTENT_LENGTH": "\u0665"},
    {"CONTENT_LENGTH": None}, {"QUERY_STRING": "a=b"}, {"HTTP_TRANSFER_ENCODING": "chunked"},
    {"HTTP_TRANSFER_ENCODING": ""},
])
def test_plain_body_length_leaves_the_rest_to_flask(change):
    environ = {k: v for k, v in {**plain, **change}.items() if v is not None}
    assert plain_body_length(environ, 100) is None


@given(st.text(max_size=12), st.integers(min_value=0, max_value=10**6))
def test_plain_body_length_takes_only_decimal_lengths_within_the_limit(length, limit):
    got = plain_body_length({**plain, "CONTENT_LENGTH": length}, limit)
    if got is not None:
        assert length.isascii() and length.isdigit() and got == int(length) <= limit
    elif length.isascii() and length.isdigit():
        assert int(length) > limit


def test_a_token_request_leaves_no_reference_cycles(shared_app):
    """Everything a fast-path token request makes is freed by reference counting: cycles
    wait for the garbage collector, whose passes stall every connection of a worker."""
    environs = [EnvironBuilder(path="/oauth/token", method="POST", data=GRANT, content_type=FORM,
                               headers=basic(CC.id, CC.secret)).get_environ()
                for _ in range(20)]
    statuses: list[str] = []
    gc.collect()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        while environs:  # each environ dropped after its request, as a server drops it
            environ = environs.pop()
            b"".join(shared_app(environ, lambda status, headers, exc_info=None: statuses.append(status)))
        del environ
        gc.collect()
        ours = [type(o) for o in gc.garbage
                if type(o).__module__.split(".")[0] in {"werkzeug", "flask", "authlib", "mock_idp"}]
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
    assert statuses == ["200 OK"] * 20
    assert ours == []
