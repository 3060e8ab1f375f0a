"""What every gunicorn run of ours shares (gunicorn loads ./gunicorn.conf.py itself,
unless --config names another file): service/gunicorn_settings.py says why."""
from service import GUNICORN_SETTINGS

globals().update(GUNICORN_SETTINGS)
