"""Tutoring's use cases, one module per thing people do (the assessment → plan loop first).

The older use cases still live in ``services/tutoring/service.py``; issue 14 moves them here.
"""
