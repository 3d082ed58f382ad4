"""Auditing (--audit-policy-file, --audit-log-path): audit.k8s.io/v1 Events, one JSON
line each, for the requests the policy selects, at the stages it keeps.

  policy.py      the Policy file and which level and stages a request gets (pure)
  events.py      an Event's fields from what a request was and got (pure)
  logfile.py     the log file: JSON lines, rotated by size, age and count, off the loop
  middleware.py  the ASGI middleware that watches each request go by
"""
