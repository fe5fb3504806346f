"""Typed settings read from the environment, with the embedded defaults of `make run`.

Every variable the suite reads is declared once in ``VARIABLES`` (``shared/variables.py``) so
the README's configuration table, docker-compose and the Kubernetes manifests can be checked
against the code instead of drifting from it.
"""

from __future__ import annotations

import os
import re
import secrets
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from shared.variables import VARIABLES

SERVICES = ("identity", "email", "web", "enrollment", "payments", "tutoring", "testimonials")
"""Every service package under ``services/``; later issues append theirs."""

DEFAULT_PORTS = {
    "web": 8000,
    "identity": 8001,
    "email": 8002,
    "enrollment": 8003,
    "payments": 8004,
    "tutoring": 8005,
    "testimonials": 8006,
}


def variable_names() -> set[str]:
    """Concrete names a deployment may set (placeholders expanded for every service)."""
    names: set[str] = set()
    for v in VARIABLES:
        if v.name.startswith("<SERVICE>_"):
            suffix = v.name.removeprefix("<SERVICE>")
            names.update(f"{s.upper()}{suffix}" for s in SERVICES)
        else:
            names.add(v.name)
    return names


def env(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name)
    return value if value not in (None, "") else default


def env_int(name: str, default: int) -> int:
    raw = env(name)
    if raw is None:
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ValueError(f"{name} must be a whole number, got {raw!r}") from exc


def env_bool(name: str, default: bool) -> bool:
    raw = env(name)
    if raw is None:
        return default
    return raw.strip().lower() in ("1", "true", "yes", "on")


def var_dir() -> Path:
    path = Path(env("VAR_DIR", "./var")).resolve()
    path.mkdir(parents=True, exist_ok=True)
    return path


def _generated_secret(name: str) -> str:
    """A secret from the environment, or one generated once into VAR_DIR.

    Generating it keeps `make run` to one command without ever shipping a secret in the repo;
    production sets the variable.
    """
    value = env(name.upper())
    if value:
        return value
    path = var_dir() / name.lower()
    if not path.exists():
        path.write_text(secrets.token_urlsafe(32))
        path.chmod(0o600)
    return path.read_text().strip()


def database_url(service: str) -> str:
    specific = env(f"{service.upper()}_DATABASE_URL")
    if specific:
        return specific
    template = env("DATABASE_URL", "sqlite:///{VAR_DIR}/{service}.db")
    if "{VAR_DIR}" in template:
        template = template.replace("{VAR_DIR}", str(var_dir()))
    return template.replace("{service}", service)


def database_schema(service: str) -> str | None:
    """The schema a service lives in when several share one PostgreSQL database."""
    if env(f"{service.upper()}_DATABASE_URL"):
        return None
    template = env("DATABASE_URL", "")
    if template and "{service}" not in template and template.startswith("postgresql"):
        return service
    return None


def service_port(service: str) -> int:
    return env_int(f"{service.upper()}_PORT", DEFAULT_PORTS[service])


def service_url(service: str) -> str:
    default = f"http://127.0.0.1:{service_port(service)}"
    return env(f"{service.upper()}_URL", default).rstrip("/")


@dataclass(frozen=True)
class BusSettings:
    url: str
    exchange: str
    queue_prefix: str
    max_attempts: int
    retry_delay_ms: int

    @property
    def is_rabbitmq(self) -> bool:
        return self.url.startswith(("amqp", "pyamqp", "amqps"))

    @property
    def is_filesystem(self) -> bool:
        """The embedded broker (``make run``): message files under ``VAR_DIR/broker``."""
        return self.url.startswith("filesystem")

    def transport_options(self) -> dict:
        if self.is_filesystem:
            root = var_dir() / "broker"
            for sub in ("queues", "control", "claimed", "unreadable"):
                (root / sub).mkdir(parents=True, exist_ok=True)
            # Read by shared.bus.filesystem (the folders' roles are described there).
            return {
                "data_folder_in": str(root / "queues"),
                "data_folder_out": str(root / "queues"),
                "control_folder": str(root / "control"),
                "claimed_folder": str(root / "claimed"),
                "unreadable_folder": str(root / "unreadable"),
                "polling_interval": 0.05,
            }
        if self.is_rabbitmq:
            return {"confirm_publish": True}
        return {}

    def queue_name(self, service: str, suffix: str = "") -> str:
        return f"{self.queue_prefix}{service}.events{suffix}"


def bus_settings() -> BusSettings:
    return BusSettings(
        url=env("BROKER_URL", "filesystem://"),
        exchange=env("BUS_EXCHANGE", "preceptor.events"),
        queue_prefix=env("BUS_QUEUE_PREFIX", ""),
        max_attempts=env_int("BUS_MAX_ATTEMPTS", 5),
        retry_delay_ms=env_int("BUS_RETRY_DELAY_MS", 1000),
    )


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    user: str
    password: str
    starttls: bool
    mail_from: str


def smtp_settings() -> SmtpSettings:
    return SmtpSettings(
        host=env("SMTP_HOST", "127.0.0.1"),
        port=env_int("SMTP_PORT", 8025),
        user=env("SMTP_USER", ""),
        password=env("SMTP_PASSWORD", ""),
        starttls=env_bool("SMTP_STARTTLS", False),
        mail_from=env("MAIL_FROM", "Preceptor <hello@preceptor.localhost>"),
    )


def public_url() -> str:
    return env("PUBLIC_URL", f"http://127.0.0.1:{service_port('web')}").rstrip("/")


def secret_key() -> str:
    return _generated_secret("SECRET_KEY")


def secret_key_fallbacks() -> list[str]:
    """Previous SECRET_KEYs, newest first: they verify what they signed, and never sign.

    Keeping them is what lets ``SECRET_KEY`` change without signing everyone out or breaking
    the links already emailed; the current key and repeats are dropped.
    """
    current = secret_key()
    fallbacks: list[str] = []
    for key in re.split(r"[\s,]+", env("SECRET_KEY_FALLBACKS", "")):
        if key and key != current and key not in fallbacks:
            fallbacks.append(key)
    return fallbacks


def secret_keys() -> list[str]:
    """The current SECRET_KEY first (it signs and encrypts), then the fallbacks (verify only)."""
    return [secret_key(), *secret_key_fallbacks()]


def service_secret() -> str:
    return _generated_secret("SERVICE_SECRET")


def admin_password() -> str:
    return _generated_secret("ADMIN_PASSWORD")


def campaign_send_rate() -> float:
    rate = env_int("CAMPAIGN_SEND_RATE", 20)
    if rate <= 0:
        raise ValueError("CAMPAIGN_SEND_RATE must be a positive number of messages per second")
    return float(rate)


def campaign_lease_seconds() -> float:
    return float(max(env_int("CAMPAIGN_LEASE_SECONDS", 30), 1))


def bounce_webhook_secret() -> str:
    return _generated_secret("BOUNCE_WEBHOOK_SECRET")


@dataclass(frozen=True)
class SessionSettings:
    idle: timedelta
    lifetime: timedelta


def session_settings() -> SessionSettings:
    """How long the site's sessions last: unused (idle), and at most (lifetime)."""
    idle = env_int("SESSION_IDLE_TIMEOUT", 7 * 24 * 3600)
    lifetime = env_int("SESSION_LIFETIME", 30 * 24 * 3600)
    if idle <= 0 or lifetime <= 0:
        raise ValueError("SESSION_IDLE_TIMEOUT and SESSION_LIFETIME must be positive seconds")
    return SessionSettings(idle=timedelta(seconds=idle), lifetime=timedelta(seconds=lifetime))


def cookie_secure() -> bool:
    return env_bool("COOKIE_SECURE", public_url().startswith("https://"))


def max_body_bytes() -> int:
    return env_int("MAX_BODY_BYTES", 1024 * 1024)


@dataclass(frozen=True)
class StripeSettings:
    secret_key: str
    publishable_key: str
    webhook_secret: str
    api_base: str
    js_url: str

    @property
    def is_local(self) -> bool:
        """True when the API is a localstripe on this machine (it needs its webhook registered)."""
        return self.api_base.startswith(("http://127.", "http://localhost"))


def stripe_settings() -> StripeSettings:
    api_base = env("STRIPE_API_BASE", f"http://127.0.0.1:{env_int('STRIPE_PORT', 8420)}")
    api_base = api_base.rstrip("/")
    return StripeSettings(
        secret_key=env("STRIPE_SECRET_KEY", "sk_test_preceptor_local"),
        publishable_key=env("STRIPE_PUBLISHABLE_KEY", "pk_test_preceptor_local"),
        webhook_secret=env("STRIPE_WEBHOOK_SECRET")
        or "whsec_" + _generated_secret("STRIPE_WEBHOOK_SECRET"),
        api_base=api_base,
        js_url=env("STRIPE_JS_URL", f"{api_base}/js.stripe.com/v3/"),
    )
