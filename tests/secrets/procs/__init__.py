"""Procedures for the secrets tests (allow-listed by tests/secrets/conftest.py)."""
