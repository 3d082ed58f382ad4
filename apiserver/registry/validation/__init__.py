"""Validation helpers every kind's Strategy builds its rules from, worded like
kube-apiserver's 422s: field errors (field.py), ObjectMeta (meta.py), the
upstream schema (schema.py), quantities, IP addresses, PodSpecs (shared by
pods, pod templates and replication controllers). The pipeline that runs them
in order is Strategy.check_create / check_update (registry/strategy.py)."""
