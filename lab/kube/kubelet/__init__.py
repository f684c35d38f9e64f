"""The kubelet: registers the Node, renews its Lease and runs the pods bound to it through CRI."""
