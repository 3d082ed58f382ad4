"""Pod workers: make the runtime match each PodSpec bound to this node, report PodStatus."""
