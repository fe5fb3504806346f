"""Email campaigns, marketing's part of the email service, in one package.

``domain`` (states, audiences, suppression reasons), ``render`` (merge fields, per-recipient
links), ``use_cases`` (create, schedule, test, cancel, figures), ``sending`` (the worker's
resumable send loop), ``api`` and ``schemas`` (the marketing and bounce endpoints).
"""
