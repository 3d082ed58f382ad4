"""The certificates controllers of kube-controller-manager: csrsigning (signer.py: the
kubernetes.io signers, issuing with the cluster CA; issuing.py: what each signer accepts
and what it issues) and csrapproving (approver.py: node client certificates)."""
