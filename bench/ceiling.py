"""The Python ceiling: the cheapest Flask route, under the same gunicorn settings as the mock."""
from flask import Flask


def create_app() -> Flask:
    """`gunicorn 'bench.ceiling:create_app()'`."""
    app = Flask(__name__)

    @app.get("/")
    def ok() -> str:
        return "ok"

    @app.get("/healthz")
    def healthz() -> str:
        return "ok"

    return app
