"""Operator commands: ``python -m shared.cli migrate | dlq | events-doc``."""

from __future__ import annotations

import argparse
import importlib
import json
import sys
from pathlib import Path

from shared import config, migrations
from shared.bus import dead_letters
from shared.bus.broker import Broker


def _services_with_db() -> list[str]:
    return [s for s in config.SERVICES if migrations.has_migrations(s)]


def _services_with_queue() -> list[str]:
    names = []
    for s in config.SERVICES:
        try:
            handlers = importlib.import_module(f"services.{s}.handlers").handlers
        except ModuleNotFoundError:
            continue
        if handlers.event_types:
            names.append(s)
    return names


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
    broker = Broker(config.bus_settings())
    services = [args.service] if args.service else _services_with_queue()
    if args.action == "replay":
        if not args.service:
            print("name the service to replay: --service NAME", file=sys.stderr)
            return 2
        count = dead_letters.replay(broker, args.service, args.ids or None)
        print(f"replayed {count} dead letter(s) of {args.service}")
        return 0
    total = 0
    for service in services:
        letters = dead_letters.list_dead_letters(broker, service)
        total += len(letters)
        for letter in letters:
            print(json.dumps({"service": service, **letter.as_dict()}, default=str))
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
    p.add_argument("action", choices=["list", "replay"], nargs="?", default="list")
    p.add_argument("--service")
    p.add_argument("ids", nargs="*", help="message ids to replay (default: all)")
    p.set_defaults(fn=cmd_dlq)
    p = sub.add_parser("events-doc", help="write docs/events.md from the event catalogue")
    p.add_argument("--output", default="docs/events.md")
    p.add_argument("--check", action="store_true")
    p.set_defaults(fn=cmd_events_doc)
    args = parser.parse_args(argv)
    return args.fn(args)


if __name__ == "__main__":
    sys.exit(main())
