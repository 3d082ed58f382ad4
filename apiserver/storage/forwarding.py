"""A Store that hands every call to another one: the base of stores that wrap a
backend and change only some calls (timing them, encrypting values)."""
from __future__ import annotations

from .interface import Store


class ForwardingStore(Store):
    def __init__(self, backend: Store):
        self.backend = backend

    def __getattr__(self, name):   # start_compactor and the backends' own extras
        return getattr(self.backend, name)

    async def create(self, key, value):
        return await self.backend.create(key, value)

    async def get(self, key):
        return await self.backend.get(key)

    async def update(self, key, value, expected_revision=None):
        return await self.backend.update(key, value, expected_revision)

    async def delete(self, key, expected_revision=None):
        return await self.backend.delete(key, expected_revision)

    async def list(self, prefix, *, limit=0, start_key=None, revision=0):
        return await self.backend.list(prefix, limit=limit, start_key=start_key, revision=revision)

    def watch(self, prefix, from_revision, **kwargs):
        return self.backend.watch(prefix, from_revision, **kwargs)

    async def current_revision(self):
        return await self.backend.current_revision()

    async def compacted_revision(self):
        return await self.backend.compacted_revision()

    async def compact(self, revision):
        return await self.backend.compact(revision)

    async def healthy(self):
        return await self.backend.healthy()

    async def close(self):
        return await self.backend.close()

    async def reliable_progress(self):
        return await self.backend.reliable_progress()
