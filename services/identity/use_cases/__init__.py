"""Identity's use cases, one module per thing people do with an account. Each opens the unit
of work, asks ``domain`` for the rules, records the events it causes and commits once, so rows
and events are written together or not at all."""
