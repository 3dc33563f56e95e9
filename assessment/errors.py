"""Errors shared across modules, kept light so that importing them costs nothing."""


class StoreError(Exception):
    """Something a user asked of the store that cannot be done; the message says why."""
