class Dicty(dict):
    def __init__(self, logger) -> None:
        super().__init__()
