"""Enrollment's use cases, one module per thing a student, an admin, an event or a job does.

Each opens the unit of work, loads rows (``loading``), asks ``domain`` for the rules, changes
the rows (seats through ``seats``) and records the events it causes, then commits once. The
read side is ``services/enrollment/queries.py``.
"""
