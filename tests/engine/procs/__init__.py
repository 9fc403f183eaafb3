"""Tiny procedure modules for the engine tests (used as the package root "tests.engine.procs")."""
