"""The projection's use cases: events as facts, the figures as of an instant, rebuilds."""
