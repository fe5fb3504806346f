"""The site's stand-ins for the services it calls, one module per service (see base.py)."""
