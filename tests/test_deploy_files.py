"""The deployment files agree with the code: every service runs, every variable is the suite's.

Which services exist is read from the filesystem, never from a list here: a service is a
package folder under ``services/`` (a folder with ``__init__.py``). Each one has a web process
(``services.<name>.app:app`` under gunicorn). Each one that has a ``worker.py``, and every one
other than ``web`` even before its ``worker.py`` is written (every service with data runs an
outbox relay and an inbox consumer), has a worker process (``python -m services.<name>.worker``).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml

from shared import config
from shared.devtools.supervise import read_procfile

ROOT = Path(__file__).resolve().parents[1]

# Variables a container may set that the suite's code does not read: gunicorn's settings
# (deploy/gunicorn.conf.py) on any container, the images' own settings on their containers.
PROCESS_VARIABLES = {"PORT", "WEB_CONCURRENCY", "GUNICORN_THREADS"}
IMAGE_VARIABLES = {
    "postgres": {"POSTGRES_USER", "POSTGRES_PASSWORD", "POSTGRES_DB", "PGDATA"},
    "rabbitmq": {"RABBITMQ_DEFAULT_USER", "RABBITMQ_DEFAULT_PASS", "RABBITMQ_DEFAULT_VHOST"},
}


def service_packages() -> list[str]:
    """Deployable services: packages under services/ with a WSGI app (a package that so far
    holds only a domain layer is not deployed yet)."""
    return sorted(
        path.name
        for path in (ROOT / "services").iterdir()
        if path.is_dir() and (path / "app.py").exists()
    )


def has_worker(service: str) -> bool:
    return (ROOT / "services" / service / "worker.py").exists()


def test_the_configuration_knows_every_deployable_service():
    assert sorted(config.SERVICES) == service_packages()


WORKER_SERVICES = [s for s in service_packages() if has_worker(s)]


@pytest.fixture(scope="module")
def containers() -> dict[str, dict]:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    return compose["services"]


@pytest.fixture(scope="module")
def procfile() -> dict[str, str]:
    return read_procfile(ROOT / "Procfile")


def environment(container: dict) -> dict[str, str]:
    env = container.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) if "=" in item else (item, "") for item in env)
    return {name: str(value) for name, value in env.items()}


def command(container: dict) -> str:
    cmd = container.get("command", "")
    return " ".join(cmd) if isinstance(cmd, list) else cmd


def test_services_are_found_on_disk():
    assert {"identity", "email", "web"} <= set(service_packages())


@pytest.mark.parametrize("service", service_packages())
def test_every_service_has_a_web_container_running_its_app(containers, service):
    container = containers.get(f"{service}-web")
    assert container, f"docker-compose.yml has no {service}-web container"
    assert command(container).startswith("gunicorn -c deploy/gunicorn.conf.py")
    assert f"services.{service}.app:app" in command(container)
    assert "/healthz" in " ".join(container["healthcheck"]["test"])
    assert container["restart"] == "unless-stopped"
    assert container["depends_on"]["migrate"]["condition"] == "service_completed_successfully"


@pytest.mark.parametrize("service", WORKER_SERVICES)
def test_every_service_with_a_worker_has_a_worker_container(containers, service):
    container = containers.get(f"{service}-worker")
    assert container, f"docker-compose.yml has no {service}-worker container"
    assert command(container) == f"python -m services.{service}.worker"
    assert container["restart"] == "unless-stopped"
    assert container["depends_on"]["rabbitmq"]["condition"] == "service_healthy"


def test_containers_set_only_variables_the_suite_reads(containers):
    suite = config.variable_names() | PROCESS_VARIABLES
    for name, container in containers.items():
        image = container.get("image", "").split(":")[0].split("/")[-1]
        allowed = suite | IMAGE_VARIABLES.get(image, set())
        unknown = set(environment(container)) - allowed
        assert not unknown, f"{name} sets variables nothing reads: {sorted(unknown)}"


def test_secrets_come_from_the_host_environment(containers):
    secrets = set()
    for v in config.VARIABLES:
        if v.secret and v.name.startswith("<SERVICE>_"):
            secrets |= {s.upper() + v.name.removeprefix("<SERVICE>") for s in config.SERVICES}
        elif v.secret:
            secrets.add(v.name)
    assert {"SECRET_KEY", "SERVICE_SECRET", "ADMIN_PASSWORD"} <= secrets
    for name, container in containers.items():
        for variable, value in environment(container).items():
            if variable in secrets:
                # ``${VAR:-}`` (empty when unset) is allowed: an optional secret, no value.
                assert re.fullmatch(rf"\$\{{{variable}(:?\?[^}}]*|:-)?\}}", value), (
                    f"{name} must take {variable} from the host environment, without a default"
                )


def test_each_service_container_gets_only_its_own_database(containers):
    urls = set()
    for service in service_packages():
        for role in ("web", "worker"):
            env = environment(containers.get(f"{service}-{role}", {}))
            databases = {v for v in env if v.endswith("_DATABASE_URL")}
            assert databases <= {f"{service.upper()}_DATABASE_URL"}, f"{service}-{role}"
            urls |= databases
    assert {v for v in environment(containers["migrate"]) if v.endswith("_DATABASE_URL")} == urls


def test_every_database_url_names_a_database_the_init_script_creates(containers):
    init_sql = (ROOT / "deploy" / "postgres" / "init.sql").read_text()
    created = set(re.findall(r"CREATE DATABASE (\w+)", init_sql))
    assert set(WORKER_SERVICES) <= created
    for name, container in containers.items():
        for variable, value in environment(container).items():
            if variable.endswith("_DATABASE_URL"):
                assert urlsplit(value).path.lstrip("/") in created, f"{name} {variable}"


def test_service_urls_point_at_containers_that_exist(containers):
    for name, container in containers.items():
        for variable, value in environment(container).items():
            if variable.endswith("_URL") and variable.removesuffix("_URL").lower() in (
                service_packages()
            ):
                host = urlsplit(value).hostname
                assert host in containers, f"{name}: {variable}={value} names no container"


def test_procfile_serves_every_service_in_the_embedded_web_process(procfile):
    """`make run` runs every service's app in one gunicorn (shared/devtools/embedded.py)."""
    web = [cmd for cmd in procfile.values() if "shared.devtools.embedded:web_app()" in cmd]
    assert len(web) == 1, "the Procfile should start the embedded web process once"
    assert web[0].startswith("gunicorn -c python:shared.devtools.gunicorn_embedded ")
    assert not [cmd for cmd in procfile.values() if re.search(r"services\.\w+\.app:app", cmd)]


def embedded_binds(**env: str) -> list[str]:
    """The gunicorn binds of `make run`'s web process, read in a process of its own (the
    settings module sets PROMETHEUS_MULTIPROC_DIR as it loads, as deploy/gunicorn.conf.py does)."""
    out = subprocess.run(
        [sys.executable, "-c", "import shared.devtools.gunicorn_embedded as g; print(*g.bind)"],
        cwd=ROOT,
        env={
            **{k: v for k, v in os.environ.items() if not k.endswith("_PORT")},
            "PROMETHEUS_MULTIPROC_DIR": "/nonexistent",
            **env,
        },
        capture_output=True,
        text=True,
        check=True,
    )
    return out.stdout.split()


def test_the_embedded_web_process_listens_on_every_services_port():
    binds = embedded_binds()
    ports = sorted(int(b.rsplit(":", 1)[1]) for b in binds)
    assert ports == sorted(config.DEFAULT_PORTS.values())
    assert {config.DEFAULT_PORTS[s] for s in service_packages()} == set(ports)
    moved = embedded_binds(IDENTITY_PORT="18001")
    assert "127.0.0.1:18001" in moved and "127.0.0.1:8001" not in moved


def test_the_embedded_web_process_hands_each_port_to_its_service():
    from shared import context
    from shared.devtools import embedded

    calls = []

    def app_of(service):
        def app(environ, start_response):
            calls.append((service, context.service.get()))
            start_response("200 OK", [])
            return [service.encode()]

        return app

    by_port = embedded.ByPort(
        {8001: ("identity", app_of("identity")), 8000: ("web", app_of("web"))}
    )
    statuses = []
    assert by_port({"SERVER_PORT": "8001"}, lambda s, h: statuses.append(s)) == [b"identity"]
    assert by_port({"SERVER_PORT": "8000"}, lambda s, h: statuses.append(s)) == [b"web"]
    assert by_port({"SERVER_PORT": "9999"}, lambda s, h: statuses.append(s))
    # ... and the app's log lines name its service (shared/logs.py reads context.service).
    assert calls == [("identity", "identity"), ("web", "web")]
    assert statuses[-1].startswith("404")


def test_procfile_starts_the_embedded_worker_of_every_service_with_a_worker(procfile):
    from shared.devtools import embedded

    assert "python -m shared.devtools.embedded" in procfile.values()
    assert sorted(embedded.WORKER_SERVICES) == WORKER_SERVICES


def test_procfile_names_are_supervisord_program_names(procfile):
    lines = [line for line in (ROOT / "Procfile").read_text().splitlines() if line.strip()]
    assert len(procfile) == len([line for line in lines if not line.lstrip().startswith("#")])
    assert all(re.fullmatch(r"[a-z][a-z0-9-]*", name) for name in procfile)


def test_readme_configuration_table_lists_every_variable():
    readme = (ROOT / "README.md").read_text()
    in_table = {
        name
        for line in readme.splitlines()
        if line.startswith("|")
        for name in re.findall(r"`([A-Z<][A-Z0-9_<>]*)`", line.split("|")[1])
    }
    missing = [v.name for v in config.VARIABLES if v.name not in in_table]
    assert not missing, f"README's configuration table lacks {missing}"


# --- compose: RabbitMQ boots with the bus topology ---------------------------------------------


def mounts(container: dict) -> dict[str, str]:
    """Container path -> repository path of each file bind-mounted from the repository."""
    found = {}
    for volume in container.get("volumes", []):
        source, target, *_ = volume.split(":")
        if source.startswith("./"):
            found[target] = source.removeprefix("./")
    return found


def rabbitmq_conf() -> dict[str, str]:
    settings = {}
    for line in (ROOT / "deploy" / "rabbitmq" / "rabbitmq.conf").read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            key, value = line.split("=", 1)
            settings[key.strip()] = value.strip()
    return settings


def test_rabbitmq_loads_the_generated_definitions_at_boot(containers):
    rabbitmq = containers["rabbitmq"]
    mounted = mounts(rabbitmq)
    conf_target = next(t for t, s in mounted.items() if s == "deploy/rabbitmq/rabbitmq.conf")
    assert conf_target.startswith("/etc/rabbitmq/conf.d/") and conf_target.endswith(".conf")
    folder = rabbitmq_conf()["load_definitions"]
    loaded = sorted((t, s) for t, s in mounted.items() if t.startswith(folder + "/"))
    assert [s for _, s in loaded] == [
        "deploy/rabbitmq/compose-login.json",
        "deploy/rabbitmq/definitions.json",
    ], "the login first, then the topology (RabbitMQ imports a folder in name order)"
    assert all(t.endswith(".json") for t, _ in loaded)
    assert all(v.endswith(":ro") for v in rabbitmq["volumes"] if v.startswith("./"))


def test_the_services_log_in_to_rabbitmq_with_a_user_the_definitions_create(containers):
    """A node importing definitions at boot creates no default user: compose's is defined."""
    import base64
    import hashlib
    import json

    login = json.loads((ROOT / "deploy" / "rabbitmq" / "compose-login.json").read_text())
    users = {u["name"]: u for u in login["users"]}
    urls = {
        environment(c)["BROKER_URL"] for c in containers.values() if "BROKER_URL" in environment(c)
    }
    assert len(urls) == 1
    url = urlsplit(urls.pop())
    user = users[url.username]
    assert user["hashing_algorithm"] == "rabbit_password_hashing_sha256"
    salted = base64.b64decode(user["password_hash"])
    assert hashlib.sha256(salted[:4] + url.password.encode()).digest() == salted[4:]
    vhost = url.path.removeprefix("/") or "/"
    assert any(p["user"] == user["name"] and p["vhost"] == vhost for p in login["permissions"])
    if url.username == "guest":
        assert rabbitmq_conf().get("loopback_users.guest") == "false"


# --- compose: every container restarts, is checked, and starts in order -------------------------


def test_localstripe_runs_only_in_the_dev_profile(containers):
    profiled = {name: c["profiles"] for name, c in containers.items() if "profiles" in c}
    assert profiled == {"localstripe": ["dev"]}
    for name, container in containers.items():
        assert "localstripe" not in (container.get("depends_on") or {}), name
        if name != "localstripe":
            assert "localstripe" not in str(environment(container)), name
    assert containers["localstripe"]["build"]["target"] == "localstripe"


def test_app_containers_build_the_app_image_without_localstripe(containers):
    for name, container in containers.items():
        if container.get("image", "").startswith("preceptor:"):
            assert container["build"]["target"] == "app", name
    dockerfile = (ROOT / "deploy" / "Dockerfile").read_text()
    app_stage, localstripe_stage = dockerfile.split("FROM app AS localstripe")
    instructions = [
        line for line in app_stage.splitlines() if line.strip() and not line.startswith("#")
    ]
    assert instructions[0].startswith("FROM python:") and instructions[0].endswith(" AS app")
    assert not [line for line in instructions if "localstripe" in line.lower()]
    assert "pip install" in localstripe_stage and "localstripe" in localstripe_stage


def test_every_container_restarts_and_is_health_checked_or_waits_for_healthy_ones(containers):
    one_shot = {name for name, c in containers.items() if c.get("restart") == "no"}
    assert one_shot == {"migrate"}
    for name, container in containers.items():
        assert container.get("restart") in ("unless-stopped", "always", "no"), name
        if name in one_shot:
            continue
        depends = container.get("depends_on") or {}
        waits = depends and all(
            d["condition"] in ("service_healthy", "service_completed_successfully")
            for d in depends.values()
        )
        assert "healthcheck" in container or waits, f"{name}: no healthcheck and no waiting"
        for dependency, rule in depends.items():
            if rule["condition"] == "service_healthy":
                assert "healthcheck" in containers[dependency], f"{name} -> {dependency}"
            if dependency in one_shot:
                assert rule["condition"] == "service_completed_successfully"


def test_every_service_container_waits_for_the_migrations(containers):
    for service in service_packages():
        for role in ("web", "worker"):
            container = containers.get(f"{service}-{role}")
            if container:
                condition = container["depends_on"]["migrate"]["condition"]
                assert condition == "service_completed_successfully", f"{service}-{role}"


def test_every_secret_the_code_would_otherwise_generate_comes_from_the_host(containers):
    """Unset, a secret is generated into each container's own VAR_DIR, so web and worker (and
    replicas) would each sign with their own: compose must pass every one it needs."""
    needs = {
        "ADMIN_PASSWORD": {"migrate"},
        "STRIPE_WEBHOOK_SECRET": {"payments-web", "payments-worker"},
        "BOUNCE_WEBHOOK_SECRET": {"email-web", "email-worker"},
        "SECRET_KEY": {n for n in containers if n.endswith(("-web", "-worker"))},
        "SERVICE_SECRET": {n for n in containers if n.endswith(("-web", "-worker"))},
    }
    generated = {
        v.name for v in config.VARIABLES if v.secret and v.default.startswith("(generated")
    }
    assert generated == set(needs)
    for variable, names in needs.items():
        for name in names:
            assert variable in environment(containers[name]), f"{name} lacks {variable}"


def test_no_secret_is_baked_into_the_image():
    dockerfile = (ROOT / "deploy" / "Dockerfile").read_text()
    declared = " ".join(
        line for line in dockerfile.splitlines() if line.lstrip().startswith(("ENV", "ARG"))
    )
    secrets = {v.name for v in config.VARIABLES if v.secret} | {"BROKER_URL", "DATABASE_URL"}
    assert not [s for s in secrets if s in declared]
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert ".env" in ignored
    assert not re.search(r"^COPY \. ", dockerfile, re.M), "copy only what the image needs"


def test_postgres_has_one_database_per_service_with_data(containers):
    init_sql = (ROOT / "deploy" / "postgres" / "init.sql").read_text()
    created = set(re.findall(r"CREATE DATABASE (\w+)", init_sql))
    with_data = {s for s in service_packages() if (ROOT / "services" / s / "migrations").exists()}
    assert with_data <= created
    for service in with_data:
        for role in ("web", "worker"):
            if f"{service}-{role}" not in containers:
                continue  # the site has a database (its sessions) and no worker
            url = environment(containers[f"{service}-{role}"])[f"{service.upper()}_DATABASE_URL"]
            assert urlsplit(url).path == f"/{service}"
