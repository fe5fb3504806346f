"""`make run`'s supervisor (shared/devtools/supervise.py): the supervisord configuration made
from the Procfile, and the printer that puts each program's name before its lines."""

from __future__ import annotations

import io
import shlex
from pathlib import Path

from supervisor.datatypes import RestartUnconditionally
from supervisor.options import ServerOptions

from shared.devtools import supervise

ROOT = Path(__file__).resolve().parents[1]


def load(tmp_path: Path) -> ServerOptions:
    """The configuration as supervisord itself reads it."""
    processes = supervise.read_procfile(ROOT / "Procfile")
    conf = tmp_path / "supervisord.conf"
    conf.write_text(supervise.configuration(processes, tmp_path))
    options = ServerOptions()
    options.realize(args=["--configuration", str(conf)])
    return options


def test_every_procfile_process_is_restarted_with_back_off_and_stopped_gently(tmp_path):
    options = load(tmp_path)
    assert options.nodaemon
    groups = {g.name: g for g in options.process_group_configs}
    procfile = supervise.read_procfile(ROOT / "Procfile")
    assert set(procfile) <= set(groups)
    for name, command in procfile.items():
        [program] = groups[name].process_configs
        assert shlex.split(program.command) == ["/bin/sh", "-c", f"exec env {command}"]
        assert program.autorestart is RestartUnconditionally  # whatever the exit code
        assert program.startsecs == supervise.START_SECONDS
        assert program.startretries == supervise.START_RETRIES
        assert program.stopwaitsecs >= 30  # gunicorn's graceful_timeout
        assert program.stopasgroup and program.killasgroup
        assert program.stdout_events_enabled and program.redirect_stderr
    [printer] = groups["log"].process_configs
    assert "--print-logs" in printer.command
    assert printer.priority < min(g.priority for n, g in groups.items() if n != "log")


def test_a_percent_sign_in_a_command_survives_supervisords_interpolation(tmp_path):
    conf = supervise.configuration({"odd": "echo 100%"}, tmp_path)
    path = tmp_path / "supervisord.conf"
    path.write_text(conf)
    options = ServerOptions()
    options.realize(args=["--configuration", str(path)])
    [odd] = next(g for g in options.process_group_configs if g.name == "odd").process_configs
    assert shlex.split(odd.command)[-1] == "exec env echo 100%"


def event(name: str, data: str) -> str:
    payload = f"processname:{name} groupname:{name} pid:1 channel:stdout\n{data}"
    header = f"ver:3.0 server:supervisor serial:1 pool:log poolserial:1 eventname:PROCESS_LOG_STDOUT len:{len(payload)}\n"
    return header + payload


def test_the_printer_names_each_line_and_joins_lines_split_across_chunks(capsys):
    stream = io.StringIO(
        event("web", "GET / 200\nGET /ca")
        + event("workers", "naïve café \r\nstarted\n")
        + event("web", "talogue 200\n"),
        newline="",
    )
    out = io.StringIO()
    supervise.print_logs(stdin=stream, out=out)
    lines = [line.split(" ", 1)[1] for line in out.getvalue().split("\n")[:-1]]
    assert lines == [
        "web | GET / 200",
        "workers | naïve café \r",
        "workers | started",
        "web     | GET /catalogue 200",
    ]
    # The listener protocol: READY before each event, an OK result after it.
    assert capsys.readouterr().out == "READY\nRESULT 2\nOK" * 3 + "READY\n"


def test_the_dotenv_file_fills_in_what_the_environment_lacks(tmp_path):
    dotenv = tmp_path / ".env"
    dotenv.write_text(
        "# secrets for compose and make run\n"
        "SECRET_KEY=abc=def\n"
        "export SERVICE_SECRET='quoted value'\n"
        'STRIPE_SECRET_KEY="sk_test_x"\n'
        "\n"
        "not a line\n"
    )
    assert supervise.read_dotenv(dotenv) == {
        "SECRET_KEY": "abc=def",
        "SERVICE_SECRET": "quoted value",
        "STRIPE_SECRET_KEY": "sk_test_x",
    }
    assert supervise.read_dotenv(tmp_path / "missing") == {}
