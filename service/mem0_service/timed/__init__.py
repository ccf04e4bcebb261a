"""The backends as the service sees them when its calls are timed: explicit wrappers around an opened record
store, vector index and embedder that report each call to /metrics and to the request's Server-Timing. The
composition root (`backends.Backends.timed`) builds them once; the core never knows."""
