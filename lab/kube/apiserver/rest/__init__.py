"""The HTTP edge: routing, content negotiation, discovery, watch streams, Status errors."""
