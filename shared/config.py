"""Typed settings read from the environment, with the embedded defaults of `make run`.

Every variable the suite reads is declared once in ``VARIABLES`` so the README's configuration
table, docker-compose and the Kubernetes manifests can be checked against the code instead of
drifting from it.
"""

from __future__ import annotations

import os
import re
import secrets
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

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


@dataclass(frozen=True)
class Variable:
    name: str
    default: str
    meaning: str
    secret: bool = False


VARIABLES: tuple[Variable, ...] = (
    Variable(
        "VAR_DIR",
        "./var",
        "Folder for the embedded defaults: SQLite files, broker folders, maildir, generated secrets.",
    ),
    Variable(
        "DATABASE_URL",
        "sqlite:///{VAR_DIR}/{service}.db",
        "SQLAlchemy URL of every service's database; `{service}` is replaced by the service name. On PostgreSQL without `{service}`, each service uses its own schema in that database.",
    ),
    Variable(
        "<SERVICE>_DATABASE_URL",
        "(unset)",
        "Overrides `DATABASE_URL` for one service, e.g. `IDENTITY_DATABASE_URL`.",
    ),
    Variable(
        "BROKER_URL",
        "filesystem://",
        "kombu URL of the broker. `amqp://user:pass@host:5672//` for RabbitMQ; `filesystem://` keeps messages under `VAR_DIR/broker` (development only).",
    ),
    Variable(
        "BUS_EXCHANGE",
        "preceptor.events",
        "Name of the topic exchange every event is published to.",
    ),
    Variable(
        "BUS_QUEUE_PREFIX",
        "",
        "Prefix of every queue name (lets several suites share one broker vhost).",
    ),
    Variable(
        "BUS_MAX_ATTEMPTS",
        "5",
        "Tries of a failing handler before its event goes to the dead-letter queue.",
    ),
    Variable(
        "BUS_RETRY_DELAY_MS", "1000", "First retry delay; each later try waits four times longer."
    ),
    Variable("SMTP_HOST", "127.0.0.1", "SMTP server the email service delivers through."),
    Variable("SMTP_PORT", "8025", "Its port (the embedded sink listens on 8025)."),
    Variable("SMTP_USER", "", "SMTP login, if the server wants one."),
    Variable("SMTP_PASSWORD", "", "SMTP password.", secret=True),
    Variable("SMTP_STARTTLS", "false", "`true` to upgrade the SMTP connection with STARTTLS."),
    Variable("MAIL_FROM", "Preceptor <hello@preceptor.localhost>", "From header of every email."),
    Variable(
        "PUBLIC_URL",
        "http://127.0.0.1:<WEB_PORT>",
        "Address of the site as people reach it; used in email links.",
    ),
    Variable(
        "SECRET_KEY",
        "(generated into VAR_DIR/secret_key)",
        "Signs the site's cookies and CSRF tokens and the links in emails, and encrypts identity's stored token-signing keys.",
        secret=True,
    ),
    Variable(
        "SECRET_KEY_FALLBACKS",
        "",
        "Previous `SECRET_KEY`s, newest first, separated by commas or spaces: still accepted to verify cookies and links and to decrypt signing keys, never used to sign. Set while rotating `SECRET_KEY` (docs/operations.md).",
        secret=True,
    ),
    Variable(
        "SERVICE_SECRET",
        "(generated into VAR_DIR/service_secret)",
        "Shared credential a service presents to identity for a service-to-service token.",
        secret=True,
    ),
    Variable("ACCESS_TOKEN_TTL", "900", "Lifetime of an access token (JWT), in seconds."),
    Variable("REFRESH_TOKEN_TTL", "2592000", "Lifetime of a refresh token, in seconds."),
    Variable(
        "LOGIN_RATE_LIMIT",
        "5",
        "Failed logins on one account before each further try on it must wait (1 s, then doubling up to `LOGIN_DELAY_MAX`).",
    ),
    Variable(
        "LOGIN_CLIENT_RATE_LIMIT",
        "20",
        "Failed logins allowed per client address in `LOGIN_RATE_WINDOW`; more than one account's, since many people may share an address (a school's network).",
    ),
    Variable(
        "LOGIN_RATE_WINDOW",
        "300",
        "Window of the per-address login limit, in seconds; an account's delays are forgotten after this long without a try.",
    ),
    Variable(
        "LOGIN_DELAY_MAX",
        "900",
        "Longest wait, in seconds, between tries on one account after repeated failed logins; a password reset lifts it.",
    ),
    Variable(
        "MAIL_REQUEST_LIMIT",
        "3",
        "Emails a stranger can have sent to one address in `MAIL_REQUEST_WINDOW` (password reset, registration notice, subscription confirmation); further requests get the same answer and send nothing.",
    ),
    Variable(
        "MAIL_REQUEST_CLIENT_LIMIT",
        "20",
        "Password-reset, registration-notice and subscription requests one client address may make in `MAIL_REQUEST_WINDOW`.",
    ),
    Variable("MAIL_REQUEST_WINDOW", "3600", "Window of the two limits above, in seconds."),
    Variable(
        "TRUSTED_PROXIES",
        "0",
        "Reverse proxies in front of the site whose `X-Forwarded-For` it believes for the client's address (rate limits); 0 when browsers connect to the site directly.",
    ),
    Variable(
        "ADMIN_EMAIL",
        "admin@preceptor.localhost",
        "First admin account, created at migration if no admin exists.",
    ),
    Variable(
        "ADMIN_PASSWORD", "(generated into VAR_DIR/admin_password)", "Its password.", secret=True
    ),
    Variable(
        "SESSION_IDLE_TIMEOUT",
        "604800",
        "Seconds a site session may go unused before it ends (sign in again).",
    ),
    Variable(
        "SESSION_LIFETIME",
        "2592000",
        "Seconds after sign-in at which a site session ends however much it is used.",
    ),
    Variable(
        "COOKIE_SECURE",
        "(true when PUBLIC_URL is https)",
        "Send the site's cookies over https only.",
    ),
    Variable(
        "<SERVICE>_PORT",
        "<port>",
        "Port a service listens on under `make run` (web 8000, identity 8001, email 8002, enrollment 8003, payments 8004, tutoring 8005, testimonials 8006); the default `<SERVICE>_URL` follows it.",
    ),
    Variable(
        "<SERVICE>_URL",
        "http://127.0.0.1:<port>",
        "Base URL of a service's HTTP API, e.g. `IDENTITY_URL` (8001), `EMAIL_URL` (8002), `ENROLLMENT_URL` (8003), `PAYMENTS_URL` (8004), `TUTORING_URL` (8005), `TESTIMONIALS_URL` (8006).",
    ),
    Variable(
        "STRIPE_SECRET_KEY",
        "sk_test_preceptor_local",
        "Stripe secret key; only the payments service reads it. The default works with the embedded localstripe only.",
        secret=True,
    ),
    Variable(
        "STRIPE_PUBLISHABLE_KEY",
        "pk_test_preceptor_local",
        "Stripe publishable key, given to the checkout page.",
    ),
    Variable(
        "STRIPE_WEBHOOK_SECRET",
        "(generated into VAR_DIR/stripe_webhook_secret)",
        "Signing secret of the Stripe webhook endpoint (`whsec_...`).",
        secret=True,
    ),
    Variable(
        "STRIPE_API_BASE",
        "http://127.0.0.1:<STRIPE_PORT>",
        "Stripe API address: the embedded localstripe by default; `https://api.stripe.com` in production.",
    ),
    Variable(
        "STRIPE_JS_URL",
        "<STRIPE_API_BASE>/js.stripe.com/v3/",
        "Stripe.js for the checkout page: localstripe's fake by default; `https://js.stripe.com/v3/` in production.",
    ),
    Variable(
        "STRIPE_PORT",
        "8420",
        "Port of the embedded localstripe under `make run` and the tests.",
    ),
    Variable(
        "TESTIMONIAL_REQUEST_AFTER_SESSIONS",
        "3",
        "Completed 1:1 sessions after which a student is asked (once) for a testimonial about tutoring.",
    ),
    Variable(
        "RESET_REST_DAYS",
        "5",
        "Days of protected rest (no work, not editable) that open the plan of a student who has failed an attempt (3-7).",
    ),
    Variable(
        "RESET_FREE_DAY_EVERY",
        "5",
        "In such a student's plan, every Nth day is free (the usual plan: every 7th), the extra buffer the reset advice asks for.",
    ),
    Variable(
        "RECOVERY_MISSED_HOURS",
        "6",
        "Study hours marked missed in the last 7 days (this many or more) that make the tutoring worker propose a recovery version of the plan.",
    ),
    Variable(
        "READINESS_WEEKS",
        "6",
        "A readiness warning appears when the two latest results are below passing and the exam is fewer than this many weeks away.",
    ),
    Variable(
        "CHECK_LINK_DAYS",
        "14",
        'Days the one-click "done / partly / missed" links in the weekly progress email stay valid.',
    ),
    Variable(
        "PROGRESS_DIGEST_DAY",
        "monday",
        "Weekday (in each reader's zone, from 07:00) on which the weekly progress emails go out, covering the seven days before.",
    ),
    Variable(
        "CAMPAIGN_SEND_RATE",
        "20",
        "Campaign emails the email worker sends per second (over two reused SMTP connections that take turns).",
    ),
    Variable(
        "CAMPAIGN_LEASE_SECONDS",
        "30",
        "Lease a worker holds on a campaign while sending it; a worker that died is replaced after it expires.",
    ),
    Variable(
        "BOUNCE_WEBHOOK_SECRET",
        "(generated into VAR_DIR/bounce_webhook_secret)",
        "Bearer token a mail provider presents to `POST /api/bounces` (email service).",
        secret=True,
    ),
    Variable("LOG_LEVEL", "INFO", "Python log level of every process."),
    Variable(
        "METRICS_PORT",
        "<SERVICE>_PORT + 1000",
        "Port of a worker's Prometheus endpoint (identity worker 9001, email 9002, enrollment 9003, payments 9004, tutoring 9005, testimonials 9006); `0` turns it off. Web processes answer `/metrics` on their own port.",
    ),
    Variable(
        "METRICS_HOST",
        "`GUNICORN_HOST`, else 127.0.0.1",
        "Address a worker's Prometheus endpoint listens on (the image's `GUNICORN_HOST=0.0.0.0` opens it to the scraper).",
    ),
    Variable(
        "PROMETHEUS_MULTIPROC_DIR",
        "/dev/shm/preceptor-metrics-<uid>",
        "Folder where gunicorn's worker processes write their metrics so `/metrics` adds them up; `deploy/gunicorn.conf.py` sets and empties it at start. Use a tmpfs; never share it between two gunicorns.",
    ),
    Variable("MAX_BODY_BYTES", "1048576", "Largest request body accepted; larger ones get 413."),
)


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
