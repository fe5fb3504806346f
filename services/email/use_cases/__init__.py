"""Email's use cases: subscriptions (HTTP) and, one module per producing service, the events
that become emails. Each reads like a sentence: load or render, queue, commit."""
