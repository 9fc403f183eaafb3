import posixpath


class Alias:
    # A function from outside the procedure packages, stored as a method.
    join = posixpath.join

    def __init__(self, logger) -> None:
        self.logger = logger
