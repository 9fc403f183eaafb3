"""Built-in procedures, allow-listed beside mod: HTTP, SQL, wait, email, sub-flows."""
