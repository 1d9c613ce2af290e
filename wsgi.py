"""WSGI entry point: `gunicorn wsgi:app` (see README), and the app for `flask --app wsgi`."""
from forum import create_app
from forum.realtime import tune_garbage_collector

app = create_app()
tune_garbage_collector(app)
