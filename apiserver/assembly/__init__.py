"""The control plane's assembly: the room at the top of the API server's layers.

It turns flags (options.py) into a running process (server.py): storage, the
registries and what a fresh cluster must hold (bootstrap.py, rbac_bootstrap.py),
admission, the authenticator chain and auth APIs (authentication.py), the ASGI
app, the endpoint reconciler, the start-up gate, and serving (serving/, the only
code that knows the HTTP server). Nothing below imports from here.
"""
