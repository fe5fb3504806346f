"""`make run`'s supervisor: supervisord running the processes of the Procfile.

    python -m shared.devtools.supervise [--procfile Procfile]

The Procfile stays the one list of what `make run` starts (tests read it too); this module turns
it into a supervisord configuration under VAR_DIR and replaces itself with supervisord in the
foreground. Unlike honcho, which stops everything when any process exits, supervisord restarts
a process that exits and leaves the others running:

- a process that had been up for ``START_SECONDS`` is started again at once;
- one that dies sooner is retried after 1 s, 2 s, 3 s, ... (supervisord's back-off) and given up
  after ``START_RETRIES`` tries in a row (about a minute), with a FATAL line in the log, so a
  process that cannot start (a syntax error, a port in use) does not spin forever;
- Ctrl-C (SIGINT to supervisord) or SIGTERM stops every process with SIGTERM, waits up to
  ``STOP_SECONDS`` for each (what gunicorn and the workers need to finish the work at hand),
  then kills what is left.

Every line a process prints reaches the terminal prefixed with its name, as honcho did: each
program's output goes to supervisord as log events, and a small event listener
(``--print-logs``, below) prints them. supervisord's own lines (spawned, exited, gave up) go to
the terminal too (and to VAR_DIR/supervisord.log).
"""

from __future__ import annotations

import argparse
import io
import os
import pwd
import shlex
import signal
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

START_SECONDS = 5
"""A process must stay up this long to count as started (gunicorn boots its app in 2-3 s)."""
START_RETRIES = 10
"""Failed starts in a row before supervisord gives a process up: back-off 1 + 2 + ... + 10 s."""
STOP_SECONDS = 35
"""SIGTERM to SIGKILL: gunicorn's graceful_timeout (30 s) and a little."""
LOG_EVENTS_BUFFER = 10_000
"""Log chunks supervisord queues for the printer while it is busy (it drops the oldest past
this): a burst of access-log lines must not lose lines."""


def read_procfile(path: Path) -> dict[str, str]:
    """``name: command`` lines, in order; blank lines and ``#`` comments skipped."""
    processes: dict[str, str] = {}
    for line in path.read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            name, command = line.split(":", 1)
            processes[name.strip()] = command.strip()
    return processes


def _quote(value: str) -> str:
    """supervisord reads its ini file with %-interpolation: a literal % is %%."""
    return value.replace("%", "%%")


def configuration(processes: dict[str, str], var_dir: Path, python: str = sys.executable) -> str:
    """The supervisord.conf for ``processes`` (name -> Procfile command).

    Each command runs through ``sh -c`` as under honcho (the Procfile uses ``${VAR:-default}``
    and leading ``NAME=value`` assignments) but with ``exec env``, so that the shell replaces
    itself with the program: supervisord's signals and its view of the pid are the program's.
    """
    var_dir = var_dir.resolve()
    sections = [
        "; Written by python -m shared.devtools.supervise from the Procfile; do not edit.",
        "[supervisord]",
        "nodaemon=true",
        # supervisord's own lines (spawned, exited, gave up): to the terminal (nodaemon does
        # that) and to a file beside the databases.
        f"logfile={_quote(str(var_dir / 'supervisord.log'))}",
        "loglevel=info",
        f"pidfile={_quote(str(var_dir / 'supervisord.pid'))}",
        f"directory={_quote(str(ROOT))}",
        f"childlogdir={_quote(str(var_dir))}",
        *_user(),
        "",
        "[eventlistener:log]",
        f"command={_quote(shlex.join([python, '-m', 'shared.devtools.supervise', '--print-logs']))}",
        "events=PROCESS_LOG",
        # Started first and stopped last, so the programs' last words are printed.
        "priority=1",
        f"buffer_size={LOG_EVENTS_BUFFER}",
        "autorestart=true",
        "stdout_logfile=NONE",
        "stderr_logfile=/dev/stdout",
        "stderr_logfile_maxbytes=0",
        "",
    ]
    for name, command in processes.items():
        sections += [
            f"[program:{name}]",
            f"command={_quote(shlex.join(['/bin/sh', '-c', f'exec env {command}']))}",
            f"directory={_quote(str(ROOT))}",
            "autostart=true",
            "autorestart=true",
            f"startsecs={START_SECONDS}",
            f"startretries={START_RETRIES}",
            "stopsignal=TERM",
            f"stopwaitsecs={STOP_SECONDS}",
            # gunicorn's workers and anything else a program started go with it.
            "stopasgroup=true",
            "killasgroup=true",
            "redirect_stderr=true",
            "stdout_logfile=NONE",
            "stdout_events_enabled=true",
            "",
        ]
    return "\n".join(sections)


def _user() -> list[str]:
    """``user=`` the user it already runs as: supervisord then keeps quiet about running as
    root (inside a container, say) and changes nothing."""
    try:
        return [f"user={_quote(pwd.getpwuid(os.getuid()).pw_name)}"]
    except KeyError:
        return []


def print_logs(stdin=None, out=None) -> None:
    """supervisord's event listener protocol: say READY, read one event (a header line, then
    ``len`` characters), answer OK. Each PROCESS_LOG event is a chunk of one program's output;
    print it line by line as ``HH:MM:SS name | line``, holding back a chunk's unfinished last
    line until the rest of it comes."""
    # supervisord counts ``len`` in characters of UTF-8 text; no newline translation, or a
    # \r\n in a program's output would shift every later event by a character.
    stdin = stdin or io.TextIOWrapper(sys.stdin.buffer, encoding="utf-8", newline="")
    out = out or sys.stderr
    partial: dict[str, str] = {}
    width = 0
    while True:
        sys.stdout.write("READY\n")
        sys.stdout.flush()
        header_line = stdin.readline()
        if not header_line:
            return
        header = dict(token.split(":", 1) for token in header_line.split())
        payload = stdin.read(int(header["len"]))
        meta, _, data = payload.partition("\n")
        name = dict(token.split(":", 1) for token in meta.split()).get("processname", "?")
        width = max(width, len(name))
        lines = (partial.pop(name, "") + data).split("\n")
        if lines[-1]:
            partial[name] = lines[-1]
        stamp = time.strftime("%H:%M:%S")
        for line in lines[:-1]:
            out.write(f"{stamp} {name:<{width}} | {line}\n")
        out.flush()
        sys.stdout.write("RESULT 2\nOK")
        sys.stdout.flush()


def read_dotenv(path: Path) -> dict[str, str]:
    """``NAME=value`` lines of a .env file (``export`` and one level of quotes allowed)."""
    values: dict[str, str] = {}
    if not path.is_file():
        return values
    for line in path.read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        name, value = line.removeprefix("export ").split("=", 1)
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        values[name.strip()] = value
    return values


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m shared.devtools.supervise")
    parser.add_argument("--procfile", type=Path, default=ROOT / "Procfile")
    parser.add_argument("--print-logs", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.print_logs:
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # supervisord stops it last
        print_logs()
        return
    # The gitignored .env of docker-compose serves `make run` too (honcho read it): it fills in
    # what the environment does not set.
    for name, value in read_dotenv(ROOT / ".env").items():
        os.environ.setdefault(name, value)
    var_dir = Path(os.environ.get("VAR_DIR", "var"))
    var_dir.mkdir(parents=True, exist_ok=True)
    conf = var_dir / "supervisord.conf"
    conf.write_text(configuration(read_procfile(args.procfile), var_dir))
    supervisord = str(Path(sys.executable).with_name("supervisord"))
    os.execv(supervisord, [supervisord, "--configuration", str(conf)])


if __name__ == "__main__":
    main()
