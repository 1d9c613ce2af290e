"""WSGI entry point: `gunicorn wsgi:app` (see README), and the app for `flask --app wsgi`."""
from forum import create_app

app = create_app()
