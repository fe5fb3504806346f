"""Tutoring's events: meetings, plans and packages (``meetings``) and progress (``progress``).

One package because tutoring produces more event types than any other service (twenty-four);
import from here: ``from services.tutoring.events import SessionBooked``.
"""

from services.tutoring.events.meetings import *  # noqa: F403
from services.tutoring.events.progress import *  # noqa: F403
