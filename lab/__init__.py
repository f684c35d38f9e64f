"""kubelab: a Kubernetes written in Python, and the lab toolkit that deploys it."""
