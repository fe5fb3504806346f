"""The embedded Stripe: localstripe (PyPI, GPL-3.0) in its own process, bound to loopback.

localstripe's own CLI binds every interface and reloads state from the system temp folder; this
runner starts its aiohttp app on 127.0.0.1 with empty state, kept in memory only. localstripe
pickles its whole store to one fixed file (/tmp/localstripe.pickle) after every write, which
grows slower with every object and lets two instances (parallel test workers) overwrite each
other's file; nothing here ever reloads it, so the runner switches the dump off. We import it
only in this separate process and never ship its code (docs/architecture.md, facts about the parts).
"""

from __future__ import annotations

import argparse
import logging


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m shared.devtools.fake_stripe")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8420)
    args = parser.parse_args(argv)

    from aiohttp import web
    from localstripe.resources import Store
    from localstripe.server import app

    Store.dump_to_disk = lambda self: None  # in memory only (see the module docstring)

    logging.basicConfig(level=logging.WARNING)
    print(f"localstripe listening on http://{args.host}:{args.port}", flush=True)
    web.run_app(app, host=args.host, port=args.port, print=None, access_log=None)


if __name__ == "__main__":
    main()
