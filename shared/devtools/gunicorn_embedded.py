"""gunicorn settings of `make run`'s one web process (shared/devtools/embedded.py).

deploy/gunicorn.conf.py's settings (timeouts, logs, metrics folder), but listening on every
service's port (WEB_PORT, IDENTITY_PORT, ...) and, unless WEB_CONCURRENCY or GUNICORN_THREADS
say otherwise, one worker with 16 threads: one process holds seven apps once, and a request
that calls another service (the site calls identity, enrollment calls payments) needs a second
thread of the same process, so a few more threads than one app would need.
"""

import os
from pathlib import Path

from shared import config as _config  # not `config`: that is a gunicorn setting

# deploy/gunicorn.conf.py names its metrics folder after PORT: the site's port here, so that
# two suites on one machine (a test's and a developer's) keep apart.
os.environ["PORT"] = str(_config.service_port("web"))
_deploy = Path(__file__).resolve().parents[2] / "deploy" / "gunicorn.conf.py"
exec(compile(_deploy.read_text(), str(_deploy), "exec"))

_host = os.environ.get("GUNICORN_HOST", "127.0.0.1")
bind = [f"{_host}:{_config.service_port(service)}" for service in _config.SERVICES]
workers = int(os.environ.get("WEB_CONCURRENCY", "1"))
threads = int(os.environ.get("GUNICORN_THREADS", "16"))
# Which service a request was for: its Host (each service has its own port), first.
access_log_format = '%({host}i)s %(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s"'
