"""The shared API-client layer of the controllers and the node agent.

An async REST client speaking dicts (client.py), kubeconfig loading, informers
(list + watch + local cache), a rate-limited work queue, leader election on a
Lease and an event recorder. Everything here talks to the API over HTTP only.
"""
from .client import ApiClient, ApiError, ResourceExpired, Watch
from .events import EventRecorder
from .informer import Informer
from .kubeconfig import ClusterConfig, load_kubeconfig, parse_kubeconfig
from .leaderelection import LeaderElector, micro_time
from .ratelimit import ControllerRateLimiter, ItemBackoff, TokenBucket
from .resources import Resource, object_key, split_key
from .workqueue import ShutDown, WorkQueue

__all__ = ["ApiClient", "ApiError", "ResourceExpired", "Watch", "EventRecorder", "Informer", "ClusterConfig",
           "load_kubeconfig", "parse_kubeconfig", "LeaderElector", "micro_time", "ControllerRateLimiter",
           "ItemBackoff", "TokenBucket", "Resource", "object_key", "split_key", "ShutDown", "WorkQueue"]
