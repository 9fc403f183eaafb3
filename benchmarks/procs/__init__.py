"""Procedures for the engine benchmark."""
