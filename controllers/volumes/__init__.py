"""PersistentVolume controllers: the binder (claims to volumes, reclaim), the
local-path provisioner, and the protection controllers (finalizers)."""
from kubeclient.resources import Resource

PVS = Resource("", "v1", "persistentvolumes", False)
PVCS = Resource("", "v1", "persistentvolumeclaims")
STORAGECLASSES = Resource("storage.k8s.io", "v1", "storageclasses", False)
