"""Gunicorn settings shared by every service's web process.

    gunicorn -c deploy/gunicorn.conf.py services.<name>.app:app

PORT picks the port (default 8000). It listens on 127.0.0.1 unless GUNICORN_HOST says otherwise:
the image sets GUNICORN_HOST=0.0.0.0, `make run` keeps the default so nothing is reachable from
other machines.
"""

import os
import shutil
import tempfile

_host = os.environ.get("GUNICORN_HOST", "127.0.0.1")
_port = int(os.environ.get("PORT", "8000"))

bind = [f"{_host}:{_port}"]
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS", "4"))

# A request gets `timeout` seconds; on SIGTERM a worker gets `graceful_timeout` seconds to finish
# the requests it has before it is killed (docker-compose gives the container 35 s).
timeout = 60
graceful_timeout = 30
keepalive = 5

accesslog = "-"
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "INFO").lower()

# Gunicorn 27's control socket has one default path per user: several gunicorns on one machine
# (`make run` starts three) would share it. Older gunicorns ignore this setting.
control_socket_disable = True

# Heartbeat files on tmpfs: a slow container disk must not make the arbiter think workers hung.
if os.path.isdir("/dev/shm"):
    worker_tmp_dir = "/dev/shm"

# Prometheus multiprocess mode: every worker process writes its counters to files in this
# folder and /metrics adds them up, so a scrape sees the whole service rather than whichever
# worker answered it. It must be in the environment before a worker imports prometheus_client;
# one folder per gunicorn (by port: two cannot share one), emptied at start so a restart does
# not add old counts.
_metrics_base = os.environ.get("PROMETHEUS_MULTIPROC_DIR") or os.path.join(
    "/dev/shm" if os.path.isdir("/dev/shm") else tempfile.gettempdir(),
    f"preceptor-metrics-{os.getuid()}",
)
_metrics_dir = os.path.join(_metrics_base, f"gunicorn-{_port}")
os.environ["PROMETHEUS_MULTIPROC_DIR"] = _metrics_dir


def on_starting(server):
    shutil.rmtree(_metrics_dir, ignore_errors=True)
    os.makedirs(_metrics_dir, exist_ok=True)


def child_exit(server, worker):
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid, _metrics_dir)
