"""Shared helpers for fault, property and load tests: a private PostgreSQL, a webhook receiver, workers."""
