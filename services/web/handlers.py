"""The site reacts to no events: it keeps only its sessions and calls the services' APIs."""

from shared.bus.handlers import Handlers

handlers = Handlers("web")
