"""The generic registry: one store for every resource plus a strategy per kind.

Entry point: `registries.Registries(storage, catalogue, settings)`, all resource
stores over one Store (wrap it in CachedStore first).
"""
