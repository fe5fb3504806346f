"""Testimonials' use cases: submitting a story, moderating it, and learning from other
services' events. Each opens the unit of work, loads rows (loading.py), asks ``domain`` for the
rules, records the events it causes and commits once. What must hold under concurrency is the
database's job (see ``models``)."""
