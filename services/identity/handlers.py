"""Identity reacts to no events: it is where accounts begin, so it only publishes."""

from shared.bus.handlers import Handlers

handlers = Handlers("identity")
