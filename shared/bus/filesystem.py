"""The embedded broker: kombu's filesystem transport, made to lose nothing (``make run``).

kombu's own ``filesystem://`` keeps one file per message in a folder, but it loses messages in
three ways, all seen under ``make run``:

- A publisher creates the message file under the name consumers look for and only then writes
  into it, so a consumer can take a half-written file; it fails to parse ("Expecting value:
  line 1 column 1") and, having already deleted the file, the message is gone.
- A consumer deletes (or moves) the file when it *gets* the message, before the handler has
  run and acknowledged it: a consumer killed in between loses it.
- Two processes binding queues to a new exchange at the same moment both create its table
  file by truncating it, so one binding (and every event routed to it) can be lost.

Here instead:

- **Publishing is atomic.** The message is written to a hidden temporary file in the same
  folder (``.<name>.tmp``, never matched by a consumer), flushed to disk, then renamed to its
  final name. A consumer sees either nothing or the whole message.
- **Getting is a claim, not a delete.** A consumer renames the file into ``claimed_folder``
  under a name that carries its owner (one per process). A rename succeeds for exactly one
  process, so no two consumers take the same message. The file is deleted on ``ack``, renamed
  back into the queue on ``reject(requeue=True)`` or when the channel closes unacknowledged.
- **A dead consumer's claims come back.** Each owner holds an exclusive ``flock`` on its
  ``<owner>.owner`` file for its lifetime; the kernel drops that lock when the process dies,
  however it dies (SIGKILL included). Every consumer, when it starts and every
  ``recover_interval`` seconds while it polls, renames back the claims of owners whose lock it
  can take. No lease to tune and no process id that can be reused by a stranger.
- **An unreadable file is never deleted.** If a claimed file cannot be parsed it is put back
  while it is young (a writer that is not atomic, such as plain kombu, may still be writing
  it), and after ``unreadable_grace`` seconds moved to ``unreadable_folder`` with an error in
  the log, where an operator can look at it and move it back into the queue folder. Retrying
  it forever would spin on a file that will never parse, and atomic publishing means a file
  under a message name is complete: if it does not parse, it is damaged, not unfinished.
- **A retry can wait.** A message with an ``x-deliver-after`` header is named by that time
  and not handed out before it, so the consumer's retries back off without holding up the
  queue (what the delay queues do on RabbitMQ).
- **Bindings are never lost.** The exchange table is created without truncating, and read
  and rewritten under one exclusive lock.

Delivery stays *at least once*: a consumer that applied a message and died before its ack
gets it again, and the consumer's inbox makes the second delivery harmless (consumer.py).

Above 400 lines on purpose: it is one kombu transport (a channel and its helpers) whose
guarantees above hold only together (claim, ack, recovery and the owner locks share the same
folders and names); this docstring is its design, and a split would separate the halves of a
single protocol.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import threading
import time
import uuid
from pathlib import Path
from queue import Empty
from typing import Any

from kombu.transport import filesystem, virtual
from kombu.utils.encoding import bytes_to_str, str_to_bytes
from kombu.utils.json import dumps, loads

log = logging.getLogger(__name__)

CLAIM_SEPARATOR = "~"
"""Between the owner and the message's own name in a claimed file's name (``~`` appears in
neither)."""

STALE_TEMP_SECONDS = 3600
"""A temporary file this old belongs to a publisher that died before its rename: its publish
never returned, so its sender (the outbox relay) sends the event again; the file is removed."""


DELIVER_AFTER_HEADER = "x-deliver-after"
"""A message header: not to be delivered before this time (seconds since the epoch). What the
consumer uses for a retry with backoff, where RabbitMQ has per-queue TTLs (broker.py)."""


def _deliver_after_ns(payload: dict) -> int | None:
    try:
        return int(float(payload["headers"][DELIVER_AFTER_HEADER]) * 1e9)
    except (KeyError, TypeError, ValueError):
        return None


class _Owner:
    """This process's identity on the claims, held by an exclusive lock on its owner file."""

    _lock = threading.Lock()
    _by_folder: dict[str, tuple[int, str, int]] = {}
    """claimed folder -> (pid, owner name, fd holding the lock)."""

    @classmethod
    def current(cls, folder: str) -> str | None:
        """This process's owner name if it has claimed anything in ``folder``."""
        held = cls._by_folder.get(folder)
        return held[1] if held is not None and held[0] == os.getpid() else None

    @classmethod
    def name(cls, folder: str) -> str:
        with cls._lock:
            held = cls._by_folder.get(folder)
            if held is not None and held[0] == os.getpid():
                return held[1]
            owner = f"{os.getpid()}-{uuid.uuid4().hex[:12]}"
            path = os.path.join(folder, f"{owner}.owner")
            fd = os.open(f"{path}.tmp", os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
            # Locked before it takes the name others look for (or one of them could take the
            # lock first and think it dead), created before this process claims anything, and
            # locked until it exits: the kernel drops the lock when the process dies.
            fcntl.flock(fd, fcntl.LOCK_EX)
            os.rename(f"{path}.tmp", path)
            cls._by_folder[folder] = (os.getpid(), owner, fd)
            return owner

    @classmethod
    def after_fork_in_child(cls) -> None:
        """A forked child shares its parent's locked descriptions: let go of them here, or the
        parent's claims would look alive for as long as the child lives."""
        for _, _, fd in cls._by_folder.values():
            with contextlib.suppress(OSError):
                os.close(fd)
        cls._by_folder = {}
        cls._lock = threading.Lock()


os.register_at_fork(after_in_child=_Owner.after_fork_in_child)


class Channel(filesystem.Channel):
    """A filesystem channel whose messages are written atomically and deleted only on ack."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for folder in (self.data_folder_out, self.claimed_folder, self.unreadable_folder):
            os.makedirs(folder, exist_ok=True)
        self.recover_claims()

    # --- folders and options -----------------------------------------------------------------

    @property
    def claimed_folder(self) -> str:
        return self.transport_options.get(
            "claimed_folder", os.path.join(self.data_folder_in, "..", "claimed")
        )

    @property
    def unreadable_folder(self) -> str:
        return self.transport_options.get(
            "unreadable_folder", os.path.join(self.data_folder_in, "..", "unreadable")
        )

    @property
    def recover_interval(self) -> float:
        return float(self.transport_options.get("recover_interval", 5.0))

    @property
    def unreadable_grace(self) -> float:
        return float(self.transport_options.get("unreadable_grace", 10.0))

    @property
    def _claims(self) -> dict[str, tuple[str, str]]:
        """delivery tag -> (claimed path, the message's name in the queue folder); kept on
        the transport, because kombu may settle a message through another of its channels."""
        transport = self.connection
        if not hasattr(transport, "claims"):
            transport.claims = {}
        return transport.claims

    # --- publishing ----------------------------------------------------------------------------

    def _put(self, queue: str, payload: dict, **kwargs: Any) -> None:
        # Names sort by time, so a queue is roughly first in, first out; a message to be
        # delivered later (DELIVER_AFTER_HEADER) is named by that time and skipped until then.
        due = _deliver_after_ns(payload) or time.time_ns()
        name = f"{due:020d}_{uuid.uuid4().hex}.{queue}.msg"
        final = os.path.join(self.data_folder_out, name)
        temp = os.path.join(self.data_folder_out, f".{name}.tmp")
        data = str_to_bytes(dumps(payload))
        try:
            fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            try:
                view = memoryview(data)
                while view:
                    view = view[os.write(fd, view) :]
                os.fsync(fd)
            finally:
                os.close(fd)
            # The one step that makes it visible, whole (rename is atomic in one folder).
            os.replace(temp, final)
        except OSError as exc:
            with contextlib.suppress(OSError):
                os.unlink(temp)
            raise filesystem.ChannelError(f"Cannot add file {final!r} to directory") from exc

    # --- consuming -----------------------------------------------------------------------------

    def _get(self, queue: str) -> dict:
        self._maybe_recover()
        wanted = f"{queue}.msg"
        owner = _Owner.name(self.claimed_folder)
        now = f"{time.time_ns():020d}"
        for name in sorted(os.listdir(self.data_folder_in)):
            if name.startswith(".") or name.partition(".")[2] != wanted:
                continue  # a temporary file, or another queue's message
            if name[20:21] == "_" and name[:20] > now:
                continue  # due later (a retry waiting out its backoff)
            claimed = os.path.join(self.claimed_folder, f"{owner}{CLAIM_SEPARATOR}{name}")
            try:
                # Exactly one process's rename succeeds: the message is now this one's.
                os.rename(os.path.join(self.data_folder_in, name), claimed)
            except FileNotFoundError:
                continue  # another consumer claimed it first
            payload = self._read_claimed(claimed, name)
            if payload is None:
                continue
            # A tag of this delivery's own: a fanout puts one payload (one tag) in many queues.
            tag = uuid.uuid4().hex
            payload["properties"]["delivery_tag"] = tag
            self._claims[tag] = (claimed, name)
            return payload
        raise Empty()

    def _read_claimed(self, claimed: str, name: str) -> dict | None:
        """The claimed file's message, or None (then it is back in the queue, or set aside)."""
        try:
            with open(claimed, "rb") as f:
                try:
                    # kombu's own writer holds this lock while writing: not finished yet.
                    fcntl.flock(f, fcntl.LOCK_SH | fcntl.LOCK_NB)
                except BlockingIOError:
                    self._unclaim(claimed, name)
                    return None
                raw = f.read()
                age = time.time() - os.fstat(f.fileno()).st_mtime
        except OSError as exc:  # the disk failed us, not the message: it stays queued
            self._unclaim(claimed, name)
            raise filesystem.ChannelError(f"Cannot read file {claimed!r}") from exc
        try:
            payload = loads(bytes_to_str(raw))
            self.Message(payload, channel=self)  # every field a delivery needs is there
            return payload
        except Exception as exc:  # whatever is wrong with it, the file is kept
            if age < self.unreadable_grace:
                self._unclaim(claimed, name)
                return None
            aside = os.path.join(self.unreadable_folder, name)
            os.rename(claimed, aside)
            log.error(
                "an unreadable message file was set aside, not delivered",
                extra={"file": aside, "error": f"{type(exc).__name__}: {exc}"[:300]},
            )
            return None

    def _unclaim(self, claimed: str, name: str) -> None:
        """Put a claimed message back in its queue, under its old name (so at its old place)."""
        # Gone already if someone recovering this owner's claims put it back first.
        with contextlib.suppress(FileNotFoundError):
            os.rename(claimed, os.path.join(self.data_folder_in, name))

    def _settle(self, tag: str, *, requeue: bool) -> None:
        claim = self._claims.pop(tag, None)
        if claim is None:
            return
        claimed, name = claim
        if requeue:
            self._unclaim(claimed, name)
        else:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(claimed)

    def basic_ack(self, delivery_tag: str, multiple: bool = False) -> None:
        self._settle(delivery_tag, requeue=False)
        super().basic_ack(delivery_tag, multiple)

    def basic_reject(self, delivery_tag: str, requeue: bool = False) -> None:
        self._settle(delivery_tag, requeue=requeue)
        self.qos._quick_ack(delivery_tag)

    def _restore(self, message: Any) -> None:
        """An unacknowledged message at close (or ``recover``): back in its queue."""
        self._settle(message.delivery_tag, requeue=True)

    def basic_get(self, queue: str, no_ack: bool = False, **kwargs: Any) -> Any:
        message = super().basic_get(queue, no_ack=no_ack, **kwargs)
        if message is not None and no_ack:
            self._settle(message.delivery_tag, requeue=False)
        return message

    def basic_consume(self, queue, no_ack, callback, consumer_tag, **kwargs):
        super().basic_consume(queue, no_ack, callback, consumer_tag, **kwargs)
        if no_ack:
            deliver = self.connection._callbacks[queue]

            def settle_then_deliver(raw: dict) -> Any:
                self._settle(raw["properties"]["delivery_tag"], requeue=False)
                return deliver(raw)

            self.connection._callbacks[queue] = settle_then_deliver

    def _purge(self, queue: str) -> int:
        wanted = f"{queue}.msg"
        count = 0
        for name in os.listdir(self.data_folder_in):
            if name.startswith(".") or name.partition(".")[2] != wanted:
                continue
            try:
                os.unlink(os.path.join(self.data_folder_in, name))
                count += 1
            except FileNotFoundError:
                pass
        return count

    def _size(self, queue: str) -> int:
        wanted = f"{queue}.msg"
        return sum(
            1
            for name in os.listdir(self.data_folder_in)
            if not name.startswith(".") and name.partition(".")[2] == wanted
        )

    # --- recovering a dead consumer's claims -------------------------------------------------

    def _maybe_recover(self) -> None:
        transport = self.connection
        now = time.monotonic()
        if now - getattr(transport, "recovered_at", 0.0) >= self.recover_interval:
            transport.recovered_at = now
            self.recover_claims()

    def recover_claims(self) -> int:
        """Put back in their queues the claims of every owner that has died; how many."""
        mine = _Owner.current(self.claimed_folder)
        by_owner: dict[str, list[str]] = {}
        for entry in os.listdir(self.claimed_folder):
            owner, sep, name = entry.partition(CLAIM_SEPARATOR)
            if sep:
                by_owner.setdefault(owner, []).append(name)
            elif entry.endswith(".owner"):  # a consumer's, even if it holds nothing
                by_owner.setdefault(entry.removesuffix(".owner"), [])
        by_owner.pop(mine, None)
        restored = 0
        for owner, names in by_owner.items():
            lock_path = os.path.join(self.claimed_folder, f"{owner}.owner")
            try:
                fd = os.open(lock_path, os.O_RDWR)
            except FileNotFoundError:
                fd = None  # its owner file is gone: only a recovery removes it, after its death
            try:
                if fd is not None:
                    try:
                        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    except BlockingIOError:
                        continue  # alive: its claims are its own
                for name in names:
                    claimed = os.path.join(self.claimed_folder, f"{owner}{CLAIM_SEPARATOR}{name}")
                    try:
                        os.rename(claimed, os.path.join(self.data_folder_in, name))
                        restored += 1
                    except FileNotFoundError:
                        pass
                if fd is not None:
                    os.unlink(lock_path)
            finally:
                if fd is not None:
                    os.close(fd)
        if restored:
            log.warning(
                "messages claimed by a consumer that died are back in their queues",
                extra={"restored": restored},
            )
        self._remove_stale_temp_files()
        return restored

    def _remove_stale_temp_files(self) -> None:
        cutoff = time.time() - STALE_TEMP_SECONDS
        for name in os.listdir(self.data_folder_out):
            if name.startswith(".") and name.endswith(".tmp"):
                path = os.path.join(self.data_folder_out, name)
                try:
                    if os.stat(path).st_mtime < cutoff:
                        os.unlink(path)
                except FileNotFoundError:
                    pass

    # --- exchange tables -----------------------------------------------------------------------

    def get_table(self, exchange: str) -> list:
        file = self._exchange_file(exchange)
        try:
            with open(file, "rb") as f:
                fcntl.flock(f, fcntl.LOCK_SH)
                raw = f.read()
        except FileNotFoundError:
            return []
        except OSError as exc:
            raise filesystem.ChannelError(f"Cannot open {file}") from exc
        # Empty: created by a binder that has not written yet (it holds the lock, we did not wait).
        return [filesystem.exchange_queue_t(*q) for q in loads(bytes_to_str(raw))] if raw else []

    def queue_bind(
        self,
        queue: str,
        exchange: str | None = None,
        routing_key: str = "",
        arguments: dict | None = None,
        **kwargs: Any,
    ) -> None:
        super().queue_bind(queue, exchange, routing_key, arguments, **kwargs)
        # The table file is what other processes route by: write it even when this process
        # remembers the binding already (kombu then skips it), as the folder may be new.
        exchange = exchange or "amq.direct"
        meta = self.typeof(exchange).prepare_bind(queue, exchange, routing_key, arguments)
        self._queue_bind(exchange, *meta)

    def _queue_bind(self, exchange: str, routing_key: str, pattern: str, queue: str) -> None:
        file = self._exchange_file(exchange)
        Path(self.control_folder).mkdir(parents=True, exist_ok=True)
        entry = filesystem.exchange_queue_t(routing_key or "", pattern or "", queue or "")
        try:
            # Created without truncating, then read and rewritten under one exclusive lock: two
            # processes binding at once both keep their binding.
            fd = os.open(file, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise filesystem.ChannelError(f"Cannot open {file}") from exc
        with os.fdopen(fd, "r+b", buffering=0) as f:
            fcntl.flock(f, fcntl.LOCK_EX)
            raw = f.read()
            table = (
                [filesystem.exchange_queue_t(*q) for q in loads(bytes_to_str(raw))] if raw else []
            )
            if entry not in table:
                table.insert(0, entry)
                f.seek(0)
                f.truncate()
                f.write(str_to_bytes(dumps(table)))


class Transport(filesystem.Transport):
    """``filesystem://`` for this project: see the module's docstring."""

    Channel = Channel
    global_state = virtual.BrokerState()
    driver_name = "preceptor-filesystem"
