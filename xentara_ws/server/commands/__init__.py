"""Command handlers, one module per command family; importing this package registers them all."""

from . import browsing, session, stages, sub_session_admin, sub_sessions, subscriptions, values

__all__ = ["browsing", "session", "stages", "sub_session_admin", "sub_sessions", "subscriptions", "values"]
