"""The OpenAPI v2 and v3 documents, generated from the catalogue and upstream schemas."""
from .routes import routes

__all__ = ["routes"]
