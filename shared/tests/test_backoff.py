"""Loops wait longer after each failure in a row, up to a ceiling, never under their period."""

from shared.backoff import LONGEST_WAIT, retry_wait


def test_the_wait_doubles_with_each_failure_and_stops_at_the_ceiling():
    waits = [retry_wait(n) for n in range(1, 10)]
    assert waits[:5] == [1.0, 2.0, 4.0, 8.0, 16.0]
    assert waits[-1] == LONGEST_WAIT and max(waits) == LONGEST_WAIT


def test_a_loop_never_waits_less_than_its_own_period():
    assert retry_wait(1, at_least=60.0) == 60.0
