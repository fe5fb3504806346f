"""Stand-ins for outside systems, used by the embedded default (`make run`) and by tests."""
