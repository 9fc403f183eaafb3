from os import system as Shell  # noqa: F401
