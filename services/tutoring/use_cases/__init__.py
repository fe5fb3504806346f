"""Tutoring's use cases, one module per thing people do.

The read side is ``services/tutoring/queries.py``; the loaders and ownership checks every
use case shares are ``services/tutoring/loading.py``.
"""
