"""Infrastructure a fault test may break without touching anyone else's: a private RabbitMQ
node and a cuttable TCP path to PostgreSQL.

The machine's RabbitMQ (:5672) and PostgreSQL (:5432) are shared by every test running at the
same time, so they are never stopped. A test that needs a broker restart gets its own node
(one per test session and xdist worker: starting one costs a few seconds); a test that needs
the database to vanish talks to it through ``PostgresProxy``, which it can cut and restore.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from shared.testing.fixtures import free_port, wait_for

RABBITMQ_SERVER = Path("/usr/lib/rabbitmq/bin/rabbitmq-server")
RABBITMQCTL = Path("/usr/lib/rabbitmq/bin/rabbitmqctl")


def _port_open(port: int) -> bool:
    with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.5):
        return True
    return False


class PrivateRabbitMQ:
    """A RabbitMQ node of this test process's own, on free ports, with its data in a temp dir.

    The node name and data dir stay the same across ``restart()``, so durable (quorum) queues
    and the persistent messages in them survive it, as they would on a production restart.
    """

    def __init__(self, root: Path) -> None:
        self.root = root
        self.port = free_port()
        self.node = f"fault{os.getpid()}x{self.port}@localhost"
        self.process: subprocess.Popen | None = None
        (root / "enabled_plugins").write_text("[].\n")
        self.env = {
            **os.environ,
            "HOME": str(root),  # its own Erlang cookie, shared with rabbitmqctl below
            "RABBITMQ_NODENAME": self.node,
            "RABBITMQ_NODE_IP_ADDRESS": "127.0.0.1",
            "RABBITMQ_NODE_PORT": str(self.port),
            "RABBITMQ_DIST_PORT": str(free_port()),
            "RABBITMQ_MNESIA_BASE": str(root / "mnesia"),
            "RABBITMQ_LOG_BASE": str(root / "log"),
            "RABBITMQ_ENABLED_PLUGINS_FILE": str(root / "enabled_plugins"),
            "RABBITMQ_CONFIG_FILE": str(root / "rabbitmq"),
            "RABBITMQ_ADVANCED_CONFIG_FILE": str(root / "advanced.config"),
        }
        self.env.pop("RABBITMQ_CONF_ENV_FILE", None)

    @property
    def url(self) -> str:
        return f"amqp://guest:guest@127.0.0.1:{self.port}//"

    def start(self, timeout: float = 60) -> None:
        if not RABBITMQ_SERVER.exists():
            pytest.fail(f"{RABBITMQ_SERVER} is missing: fault tests need RabbitMQ installed")
        # The node registers with epmd, starting one if none runs; start it outside the node's
        # process group so that killing the node never takes epmd (and other nodes' names) along.
        subprocess.run(["epmd", "-daemon"], check=False, start_new_session=True, timeout=30)
        self.process = subprocess.Popen(
            [str(RABBITMQ_SERVER)],
            env=self.env,
            cwd=self.root,
            stdout=(self.root / "server.out").open("ab"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        wait_for(self._accepting, timeout=timeout, interval=0.2, message=f"{self.node} to boot")

    def _accepting(self) -> bool:
        if self.process is not None and self.process.poll() is not None:
            raise AssertionError(f"{self.node} exited: {self.log_tail()}")
        return _port_open(self.port)

    def kill(self) -> None:
        """The broker dies at once (SIGKILL): connections drop, nothing is flushed politely."""
        if self.process is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)
        self.process = None
        wait_for(lambda: not _port_open(self.port), timeout=10, message="the port to close")

    def ctl(self, *args: str) -> None:
        subprocess.run(
            [str(RABBITMQCTL), "-n", self.node, *args],
            env=self.env,
            check=True,
            capture_output=True,
            timeout=60,
        )

    def stop_app(self) -> None:
        """The broker goes down (every connection closes, the port refuses), the node stays."""
        self.ctl("stop_app")
        wait_for(lambda: not _port_open(self.port), timeout=10, message="the port to close")

    def start_app(self) -> None:
        self.ctl("start_app")
        wait_for(self._accepting, timeout=30, interval=0.1, message=f"{self.node} to come back")

    def restart(self) -> None:
        """Restart the broker application (about 3 s; a full ``kill``/``start`` takes 10)."""
        self.stop_app()
        self.start_app()

    def stop(self) -> None:
        """Stop the node and everything it started (the Erlang VM is a child of a shell)."""
        if self.process is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(timeout=30)
        self.kill()

    def log_tail(self, chars: int = 2000) -> str:
        out = self.root / "server.out"
        return out.read_text(errors="replace")[-chars:] if out.exists() else ""


@pytest.fixture(scope="session")
def private_rabbitmq() -> Iterator[PrivateRabbitMQ]:
    """A RabbitMQ node only this test process uses: restart it, kill it, nobody else minds."""
    root = Path(tempfile.mkdtemp(prefix="fault-rabbit-"))
    node = PrivateRabbitMQ(root)
    node.start()
    yield node
    node.stop()
    shutil.rmtree(root, ignore_errors=True)


class PostgresProxy:
    """A TCP relay to PostgreSQL that a test can cut (refuse new connections, reset every open
    one, as a crashed server or a network partition does) and restore on the same port."""

    def __init__(self, target_port: int = 5432, target_host: str = "127.0.0.1") -> None:
        self.target = (target_host, target_port)
        self.port = free_port()
        self._listener: socket.socket | None = None
        self._open: set[socket.socket] = set()
        self._lock = threading.Lock()
        self.connections = 0
        """How many client connections the proxy accepted so far (pools reconnecting show here)."""

    def url_for(self, database_url: str) -> str:
        """``database_url`` (a PostgreSQL URL on the target port) pointed at the proxy."""
        from sqlalchemy.engine import make_url

        url = make_url(database_url).set(host="127.0.0.1", port=self.port)
        return url.render_as_string(hide_password=False)

    def start(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def cut(self) -> None:
        """PostgreSQL is gone: new connections are refused and open ones are reset."""
        listener, self._listener = self._listener, None
        if listener is not None:
            with contextlib.suppress(OSError):
                listener.shutdown(socket.SHUT_RDWR)
            listener.close()
        with self._lock:
            doomed, self._open = self._open, set()
        for sock in doomed:
            # Linger 0 makes the close a reset, as a crashed server's kernel would answer. Only
            # shutdown() here: it wakes the relay threads blocked in recv() on the socket, which
            # then close it. Closing it under them would leave the connection open (a blocked
            # recv keeps it alive) and free its descriptor number for reuse by another socket.
            with contextlib.suppress(OSError):
                sock.setsockopt(
                    socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00"
                )
                sock.shutdown(socket.SHUT_RDWR)

    def restore(self) -> None:
        if self._listener is None:
            self.start()

    def stop(self) -> None:
        self.cut()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return  # cut
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            upstream.settimeout(None)
            with self._lock:
                if self._listener is not listener:  # cut while connecting
                    client.close()
                    upstream.close()
                    return
                self._open.update((client, upstream))
                self.connections += 1
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    def _pipe(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (source, sink):  # wakes the thread relaying the other way
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
            with self._lock:
                self._open.discard(source)
                self._open.discard(sink)
            source.close()


@pytest.fixture
def postgres_proxy() -> Iterator[PostgresProxy]:
    """A cuttable path to the shared PostgreSQL; the server itself is never touched."""
    proxy = PostgresProxy()
    proxy.start()
    yield proxy
    proxy.stop()
