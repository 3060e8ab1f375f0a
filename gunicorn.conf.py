"""What every gunicorn run of ours shares (gunicorn loads ./gunicorn.conf.py itself,
unless --config names another file): service/gunicorn_settings.py says why."""
from service.gunicorn_settings import access_log_format, control_socket_disable  # noqa: F401
