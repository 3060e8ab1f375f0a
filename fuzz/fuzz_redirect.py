"""Fuzz the CLI's redirect parsing (service.oauth): implicit fragment and PKCE query.

Input: the expected state on the first line, then a redirect URL, query or fragment.
Only the documented errors (GcloginError: RedirectError, StateError, OAuthError) may be
raised; a success must carry the expected state and a non-empty token or code; a
RedirectError's message must not echo the token or code it refused (R25).

    python fuzz/fuzz_redirect.py [libFuzzer flags] NEW_INPUTS_DIR fuzz/corpus/redirect
"""
import sys

import atheris

with atheris.instrument_imports(include=["service"]):
    from service.errors import GcloginError, OAuthError
    from service.oauth import parse_code_response, parse_implicit_response, parse_params


def _secret_values(raw: str) -> list[str]:
    try:
        params = parse_params(raw)
    except GcloginError:
        return []
    return [v for k, v in params.items() if k in ("access_token", "code") and len(v) >= 16]


def check(data: bytes) -> None:
    head, _, body = data.partition(b"\n")
    # The expected state is ours (new_state(): URL-safe ASCII); the redirect is anyone's.
    expected = head.decode("ascii", "ignore")
    redirect = body.decode("utf-8", "surrogateescape")
    _, hash_, fragment = redirect.partition("#")
    query = redirect.split("#", 1)[0].partition("?")[2] if "?" in redirect else redirect
    for kind, raw in (("fragment", fragment if hash_ else redirect), ("query", query)):
        try:
            if kind == "fragment":
                token = parse_implicit_response(raw, expected)
                assert token.access_token and token.token_type == "bearer", token
            else:
                code = parse_code_response(raw, expected)
                assert code, "empty code accepted"
            assert expected and parse_params(raw).get("state") == expected, "state not checked"
        except OAuthError:
            pass
        except GcloginError as exc:
            for secret in _secret_values(raw):
                assert secret not in str(exc), f"{type(exc).__name__} echoes a {kind} secret"


def main() -> None:
    atheris.Setup(sys.argv, check)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
