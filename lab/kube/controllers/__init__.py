"""kube-controller-manager: reconcile loops, one module per controller, on shared informers.

Each controller registers informer handlers that only enqueue keys, and does its work in
`sync(key)` (level-triggered, safe to repeat), run by `lab.kube.client.run_controller`.
"""
