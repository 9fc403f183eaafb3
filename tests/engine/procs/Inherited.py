from tests.engine.procs.Echo import Echo


class Inherited(Echo):
    pass
