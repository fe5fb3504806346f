"""Enrollment's rules (``rules.py``) and promotion codes (``promotions.py``), as one namespace:
``from services.enrollment import domain`` then ``domain.transition(...)``, ``domain.PromoCode``.
"""

from services.enrollment.domain.promotions import *  # noqa: F403
from services.enrollment.domain.rules import *  # noqa: F403
from services.enrollment.domain.rules import _is_int, _require_aware  # noqa: F401
