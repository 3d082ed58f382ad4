"""The only code in the node agent that talks to the container runtime (Podman):
its REST API (podman.py), the specs it is given (specgen.py), the command lines of
interactive processes (Podman.exec_process/attach_process) and our labels."""
