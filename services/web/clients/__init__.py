"""The site's only way to business data: the other services' HTTP APIs, called as the user.

The site holds no data of its own, so every page is a thin view over these calls. Problem+json
answers become ``ServiceError`` (so a page can put each message next to its form field), and a
service that cannot be reached becomes ``ServiceUnavailable`` (a friendly 503 page, never 500).
One client class per service (``<service>_client.py``, the tutoring one with its progress calls
in ``tutoring_progress.py``) over ``base.ServiceClient``; pages use the instances below
(``clients.tutoring.tutor(...)``).
"""

from __future__ import annotations

from services.web.clients.base import ServiceClient, ServiceError, ServiceUnavailable
from services.web.clients.email_client import EmailClient
from services.web.clients.enrollment_client import EnrollmentClient
from services.web.clients.identity_client import IdentityClient
from services.web.clients.payments_client import PaymentsClient
from services.web.clients.testimonials_client import TestimonialsClient
from services.web.clients.tutoring_client import TutoringClient

__all__ = [
    "BY_SERVICE",
    "EmailClient",
    "EnrollmentClient",
    "IdentityClient",
    "PaymentsClient",
    "ServiceClient",
    "ServiceError",
    "ServiceUnavailable",
    "TestimonialsClient",
    "TutoringClient",
    "email",
    "enrollment",
    "identity",
    "payments",
    "testimonials",
    "tutoring",
]

identity = IdentityClient()
email = EmailClient()
enrollment = EnrollmentClient()
payments = PaymentsClient()
tutoring = TutoringClient()
testimonials = TestimonialsClient()

BY_SERVICE: dict[str, ServiceClient] = {
    c.service: c for c in (identity, email, enrollment, payments, tutoring, testimonials)
}
"""Every service the site calls, by name (the operations page asks each the same question)."""
