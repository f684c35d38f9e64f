"""Kubernetes components written in Python."""
