"""Static pods: the components that run on this node outside the API's control
(the API server, controller manager, scheduler, proxy and DNS that `pocketkube up`
starts), shown in the API as mirror pods the node agent owns, as the kubelet
shows kubeadm's static pods."""

from .spec import StaticComponent

__all__ = ["StaticComponent"]
