import engine_tests_missing_dependency  # noqa: F401


class Missingdep:
    pass
