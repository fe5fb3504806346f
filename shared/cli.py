"""Operator commands: ``python -m shared.cli migrate | dlq | events-doc | rabbitmq-definitions |
k8s-manifests``."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from shared import config, migrations
from shared.bus import dead_letters, topology
from shared.bus.broker import Broker


def _services_with_db() -> list[str]:
    return [s for s in config.SERVICES if migrations.has_migrations(s)]


def _services_with_queue() -> list[str]:
    return list(topology.consumed_event_types())


def cmd_migrate(args: argparse.Namespace) -> int:
    for service in args.services or _services_with_db():
        migrations.upgrade(service)
        print(f"migrated {service}")
    return 0


def cmd_makemigration(args: argparse.Namespace) -> int:
    """Autogenerate a migration by comparing the models with a scratch PostgreSQL database."""
    import uuid

    import sqlalchemy as sa
    from alembic import command

    admin_url = args.admin_url
    name = f"scratch_{args.service}_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = sa.engine.make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    try:
        cfg = migrations.alembic_config(args.service, url)
        cfg.attributes["skip_seed"] = True
        command.upgrade(cfg, "head")
        command.revision(cfg, message=args.message, autogenerate=True)
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
    return 0


def cmd_dlq(args: argparse.Namespace) -> int:
    action, *ids = args.words or ["list"]
    if action not in ("list", "replay") or (action == "list" and ids):
        print("usage: dlq [list] | dlq replay --service NAME [ID ...]", file=sys.stderr)
        return 2
    broker = Broker(config.bus_settings())
    services = [args.service] if args.service else _services_with_queue()
    try:
        if action == "replay":
            if not args.service:
                print("name the service to replay: --service NAME", file=sys.stderr)
                return 2
            count = dead_letters.replay(broker, args.service, ids or None)
            print(f"replayed {count} dead letter(s) of {args.service}")
            return 0
        total = 0
        for service in services:
            letters = dead_letters.list_dead_letters(broker, service)
            total += len(letters)
            for letter in letters:
                print(json.dumps({"service": service, **letter.as_dict()}, default=str))
    except dead_letters.DeadLettersBusy as busy:
        print(
            f"the dead letters of {busy} are being read by someone else (the admin page or "
            "another dlq command); try again in a moment",
            file=sys.stderr,
        )
        return 1
    print(f"{total} dead letter(s)", file=sys.stderr)
    return 0


def cmd_events_doc(args: argparse.Namespace) -> int:
    from shared.bus.docs import render

    text = render()
    if args.check:
        current = Path(args.output).read_text() if Path(args.output).exists() else ""
        if current != text:
            print(f"{args.output} is out of date: run `make docs`", file=sys.stderr)
            return 1
        return 0
    Path(args.output).write_text(text)
    print(f"wrote {args.output}")
    return 0


def _write_or_check(path: Path, text: str, check: bool, how: str) -> bool:
    """Write ``text`` to ``path``; with ``check``, only say whether it is already there."""
    current = path.read_text() if path.exists() else None
    if check:
        if current != text:
            print(f"{path} is out of date: run `{how}`", file=sys.stderr)
            return False
        return True
    if current != text:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        print(f"wrote {path}", file=sys.stderr)
    return True


def cmd_rabbitmq_definitions(args: argparse.Namespace) -> int:
    """The bus topology as RabbitMQ definitions; the committed file uses the BUS_* defaults."""
    settings = config.bus_settings() if args.from_env else topology.default_settings()
    text = topology.render(settings)
    if args.output is None:
        sys.stdout.write(text)
        return 0
    return 0 if _write_or_check(Path(args.output), text, args.check, "make deploy-files") else 1


def cmd_k8s_manifests(args: argparse.Namespace) -> int:
    from shared import k8s_manifests

    ok = True
    folder = Path(args.output)
    for name, text in k8s_manifests.render_all().items():
        ok &= _write_or_check(folder / name, text, args.check, "make deploy-files")
    return 0 if ok else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m shared.cli")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("migrate", help="bring every service's database to the latest schema")
    p.add_argument("services", nargs="*")
    p.set_defaults(fn=cmd_migrate)
    p = sub.add_parser("makemigration", help="autogenerate a migration for one service")
    p.add_argument("service")
    p.add_argument("message")
    p.add_argument("--admin-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    p.set_defaults(fn=cmd_makemigration)
    p = sub.add_parser("dlq", help="list or replay dead letters")
    # One positional list, split by cmd_dlq; ids after `--service NAME` are added in main()
    # (argparse would refuse positionals on both sides of an option).
    p.add_argument(
        "words",
        nargs="*",
        metavar="[list | replay [ID ...]]",
        help="list (the default), or replay the given message ids (default: all of --service)",
    )
    p.add_argument("--service")
    p.set_defaults(fn=cmd_dlq)
    p = sub.add_parser("events-doc", help="write docs/events.md from the event catalogue")
    p.add_argument("--output", default="docs/events.md")
    p.add_argument("--check", action="store_true")
    p.set_defaults(fn=cmd_events_doc)
    p = sub.add_parser(
        "rabbitmq-definitions",
        help="print the bus topology as RabbitMQ definitions (deploy/rabbitmq/definitions.json)",
    )
    p.add_argument("--output", help="write to this file instead of standard output")
    p.add_argument("--check", action="store_true", help="fail if --output differs")
    p.add_argument(
        "--from-env",
        action="store_true",
        help="use BUS_EXCHANGE, BUS_QUEUE_PREFIX, BUS_MAX_ATTEMPTS and BUS_RETRY_DELAY_MS "
        "from the environment instead of their defaults",
    )
    p.set_defaults(fn=cmd_rabbitmq_definitions)
    p = sub.add_parser("k8s-manifests", help="write the Kubernetes manifests under deploy/k8s")
    p.add_argument("--output", default="deploy/k8s")
    p.add_argument("--check", action="store_true", help="fail if a file differs")
    p.set_defaults(fn=cmd_k8s_manifests)
    args, extra = parser.parse_known_args(argv)
    if args.command == "dlq" and not any(word.startswith("-") for word in extra):
        args.words += extra  # ids given after --service NAME
    elif extra:
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    return args.fn(args)


if __name__ == "__main__":
    sys.exit(main())
