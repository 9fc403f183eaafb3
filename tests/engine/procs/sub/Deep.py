class Deep:
    def __init__(self, logger) -> None:
        self.logger = logger

    def where(self, context, params: dict) -> dict:
        return {"module": __name__}
