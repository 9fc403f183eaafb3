"""Secrets: encrypted at rest, resolved when a step runs, masked wherever text is stored."""
