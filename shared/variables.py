"""Every environment variable the suite reads, declared once: its name, default and meaning.

The table is data: the README's configuration table, docker-compose and the Kubernetes
manifests are checked against it (tests/test_deploy_files.py), and ``shared.config`` reads the
variables. Kept apart from the readers so each file is one thing.
"""

from __future__ import annotations

from dataclasses import dataclass


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
