"""The node agent (our kubelet): joins the cluster as a Node and runs its pods under Podman.

Layers, bottom up (an import-linter contract):
  runtime/     the only code that talks to Podman: REST calls (podman.py), the
               libpod specs of a pod (specgen.py), `podman exec/attach` command
               lines, the labels that map containers back to pods
  hostinfo.py  facts about this host (capacity, addresses, OS)
  pods/        one PodWorker per pod: sandbox, volumes, env, container starts,
               probes, restarts, status (manager.py, worker.py, starter.py, ...)
  node.py      the Node object and its Lease (registration, heartbeats)
  server/      the kubelet HTTPS API: logs, exec, attach, port-forward
  simulated.py simulated nodes (`nodeagent --simulate N`, tests, benchmarks): no pod runs
  simulated_pods.py what a simulated node does to its pods (KWOK-like stages), pure
  agent.py     wires them together (`run_agent`); main.py is its command line
"""
