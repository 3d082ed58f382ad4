import pytest

from admission_cluster import Cluster
from apiserver.registry.registries import Registries
from apiserver.storage.sqlite import SQLiteStore
from openapi.catalogue import load


@pytest.fixture
async def cluster(tmp_path):
    store = SQLiteStore(str(tmp_path / "db.sqlite"))
    c = Cluster(Registries(store, load()))
    await c.namespace("default")
    yield c
    await store.close()
