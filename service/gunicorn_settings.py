"""Settings every gunicorn run of ours shares: ./gunicorn.conf.py (which gunicorn loads by
itself) and mock_idp/gunicorn_conf.py (loaded by --config, which replaces it) both apply
``GUNICORN_SETTINGS``.

The access log records the path without its query string: the web service's OAuth
callback carries the PKCE code in the query (R25), and no query string of ours needs
to be in a log. The Referer is left out for the same reason. Gunicorn 27 gives every
instance a control socket at one fixed path in $HOME, which collides when several run at
once (tests, the demo) and is not used here.
"""
from __future__ import annotations

GUNICORN_SETTINGS = {
    "access_log_format": '%(h)s %(l)s %(u)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(b)s "%(a)s" %(M)sms',
    "control_socket_disable": True,
}
