"""The raw stack of the catalogue benchmark: a bare Flask JSON hello-world.

``gunicorn -c deploy/gunicorn.conf.py benchmarks.hello_app:app`` serves it under exactly the
settings a service runs with, so the ratio measures what the service adds (flask-smorest,
marshmallow, the request hooks, SQLAlchemy and PostgreSQL), not gunicorn.
"""

from __future__ import annotations

from flask import Flask

app = Flask(__name__)


@app.get("/")
def hello() -> dict[str, str]:
    return {"hello": "world"}
