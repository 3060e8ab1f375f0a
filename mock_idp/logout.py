"""GET /logout: what Genesys's JavaScript SDK's `logout()` navigates to.

`/logout?client_id=...&redirect_uri=...` ends the sign-in session and sends the browser
back only to a redirect URI registered for that client (R4, R27); anything else gets
an error page and stays here. The mock's only sign-in state in a browser is the login
form's binding cookie (authorize.py): it is cleared, so the next authorize starts from
a fresh form.
"""
from __future__ import annotations

from flask import Blueprint, Response, request

from .authorize import BINDING_COOKIE, AUTHORIZE_PATH, check_single
from .errors import PageError
from .extension import ext
from .pages import html_page

bp = Blueprint("logout", __name__)


@bp.get("/logout")
def logout() -> Response:
    check_single(request.args, ("client_id", "redirect_uri"))
    client_id = request.args.get("client_id", "")
    redirect_uri = request.args.get("redirect_uri", "")
    if redirect_uri:
        if not client_id:
            raise PageError("The parameter 'client_id' is missing: a logout redirect goes only "
                            "to a redirect URI registered for the client.")
        client = ext().store.get_client(client_id)
        if client is None:
            raise PageError("Unknown client: the 'client_id' is not a registered OAuth client.")
        if not client.check_redirect_uri(redirect_uri):
            raise PageError("The 'redirect_uri' is not registered for this client, so the "
                            "browser was not sent there.")
        response = Response(status=302, headers={"Location": redirect_uri})
    else:
        response = html_page("signed_out.html")
    response.delete_cookie(BINDING_COOKIE, path=AUTHORIZE_PATH, httponly=True, samesite="Strict",
                           secure=request.is_secure)
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response
