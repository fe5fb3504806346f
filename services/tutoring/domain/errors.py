"""The refusals tutoring's rules raise, each an HTTP problem (``shared.errors``)."""

from __future__ import annotations

from shared.errors import Conflict, DomainError, NotFound


class InvalidTimeZone(DomainError):
    title = "Unknown time zone"


class InvalidAvailability(DomainError):
    title = "The availability makes no sense"


class InvalidTimeOff(DomainError):
    title = "The time off makes no sense"


class InvalidSlotRules(DomainError):
    title = "The booking settings make no sense"


class InvalidIntake(DomainError):
    title = "The intake form is not valid"


class InvalidTransition(Conflict):
    title = "The consultation cannot do that in its current state"


class ConsultationAlreadyOpen(Conflict):
    title = "You already have an open consultation"


class SessionAlreadyStarted(Conflict):
    title = "The session has already started"


class RescheduleLimitReached(Conflict):
    title = "This session has been rescheduled as often as allowed"


class TooLateToReschedule(DomainError):
    title = "It is too late to reschedule this session"


class SlotTaken(Conflict):
    title = "That time has just been booked"


class SlotNotOffered(DomainError):
    title = "That time is not one of the tutor's bookable slots"


class TutorNotFound(NotFound):
    title = "No such tutor"


class ConsultationNotFound(NotFound):
    title = "No such consultation"


class PlanNotFound(NotFound):
    title = "No such study plan"


class PlanAlreadyExists(Conflict):
    title = "This consultation already has a study plan"


class InvalidPackage(DomainError):
    title = "That package cannot be bought"


class PackageNotFound(NotFound):
    title = "No such package"


class SessionNotFound(NotFound):
    title = "No such session"


class ConsultationFirst(Conflict):
    title = "Book and complete a consultation with this tutor first"


class NoCredit(Conflict):
    title = "You have no hours left with this tutor"


class SessionNotBooked(Conflict):
    title = "The session is not booked any more"


class MeetingNotStarted(Conflict):
    title = "The meeting has not started yet"


class ConsultationNotStarted(MeetingNotStarted):
    title = "The consultation has not started yet"


class SessionNotStarted(MeetingNotStarted):
    title = "The session has not started yet"
