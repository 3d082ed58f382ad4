"""The shared client toolkit of the controllers and the node agent.

An async REST client speaking dicts (client.py), kubeconfig loading, informers
(list + watch + local cache), a rate-limited work queue, leader election on a
Lease, the event recorder, resource quantities as numbers (quantity.py), API
timestamps (timestamps.py) and the process basics of a client program
(process.py). Everything here talks to the API over HTTP only; a helper two
clients need goes here, never into one of them.
"""
from .client import ApiClient, ApiError, ResourceExpired, Watch
from .events import EventRecorder
from .informer import Informer
from .kubeconfig import ClusterConfig, load_kubeconfig, parse_kubeconfig
from .leaderelection import LeaderElector
from .ratelimit import ControllerRateLimiter, ItemBackoff, TokenBucket
from .resources import Resource, object_key, split_key
from .timestamps import micro_time
from .workqueue import ShutDown, WorkQueue

__all__ = ["ApiClient", "ApiError", "ResourceExpired", "Watch", "EventRecorder", "Informer", "ClusterConfig",
           "load_kubeconfig", "parse_kubeconfig", "LeaderElector", "micro_time", "ControllerRateLimiter",
           "ItemBackoff", "TokenBucket", "Resource", "object_key", "split_key", "ShutDown", "WorkQueue"]
