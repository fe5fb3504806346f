"""The site reacts to no events: it holds no data and only calls the services' APIs."""

from shared.bus.handlers import Handlers

handlers = Handlers("web")
