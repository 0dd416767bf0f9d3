"""Helpers for tests: real Kafka and PostgreSQL servers on 127.0.0.1."""
