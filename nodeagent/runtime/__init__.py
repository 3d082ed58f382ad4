"""The only code in the node agent that talks to the container runtime (Podman)."""
