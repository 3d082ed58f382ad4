"""A real registry over a throwaway SQLite store, with the admission chain wired in."""
from apiserver.admission import AdmissionSettings, build_chain
from apiserver.registry.context import WriteContext


class Cluster:
    def __init__(self, registries, plugin_names=None):
        self.registries = registries
        self.plugin_names = plugin_names
        self.mutate, self.validate = build_chain(plugin_names, registries)

    def rebuild_chain(self, settings: AdmissionSettings) -> None:
        """The admission chain as a server started with other flags would build it."""
        self.mutate, self.validate = build_chain(self.plugin_names, self.registries, settings)

    def ctx(self, **kw) -> WriteContext:
        return WriteContext(mutate=self.mutate, validate=self.validate, **kw)

    def gs(self, plural, group=""):
        return self.registries.for_plural(group, plural)

    async def create(self, plural, namespace, obj, group="", **kw):
        ctx = self.ctx(**kw)
        so = await self.gs(plural, group).create(namespace, obj, ctx)
        return so.obj, ctx.warnings

    async def namespace(self, name, labels=None):
        await self.create("namespaces", "", {"metadata": {"name": name, "labels": labels or {}}})


def pod(name="p", **spec):
    s = {"containers": [{"name": "c", "image": "busybox"}]}
    s.update(spec)
    return {"metadata": {"name": name}, "spec": s}
