"""The marketing console: subscribers, campaigns, suppression and testimonial moderation.

Only marketing and admin may open it (everyone else gets the 403 page, a visitor the sign-in
page). The email and testimonials services check the same roles on every call and own every
rule; these pages show what they answer and put their refusals next to the fields they name.
One blueprint (``marketing_pages``, in ``console``) whose routes live in one module per thing
marketing looks after: ``subscribers`` (and suppression), ``campaigns`` and ``testimonials``.
Importing this package registers them all.
"""

from __future__ import annotations

from services.web.pages.marketing import campaigns, subscribers, testimonials
from services.web.pages.marketing.console import bp

__all__ = ["bp", "campaigns", "subscribers", "testimonials"]
