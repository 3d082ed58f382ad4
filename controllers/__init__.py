"""The scheduler and the controller manager: API clients only (kubeclient underneath).

  manager.py / main.py   leader election on a Lease, then the chosen controllers
                         (`pocketkube controllers --controllers=*,-name`)
  registry.py            controller names -> classes; the `*,-name` rule
  base.py, context.py    informers feed keys to a work queue; workers reconcile
  scheduler/             filters, scores, inter-pod affinity, topology spread, binding
  namespace, serviceaccount, rootca, endpoints, endpointslices, replication,
  garbagecollector, podgc, nodelifecycle: one controller each

Nothing here imports the node agent (an import-linter contract): what both need
is in kubeclient.
"""
