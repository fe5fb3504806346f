"""Payments' use cases, one module per thing that happens to a payment.

``intents``: a purchase's PaymentIntent is opened and a card paid; ``stripe_events``: what
Stripe tells us (webhook and reconciliation) is applied once; ``refunds``: a refund asked for
on the bus becomes at most one Stripe refund. Stripe is called inside the unit of work while
the payment row is locked (``FOR UPDATE``): two concurrent calls for one purchase, or two
refund requests for one payment, take turns, so the second sees what the first did instead of
making a second PaymentIntent or refund. The read side is ``services/payments/queries.py``.
"""
