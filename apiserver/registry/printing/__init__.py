"""Helpers for the `kubectl get` tables each kind's Strategy prints
(columns() and cells()): column definitions and upstream's cell wording."""
