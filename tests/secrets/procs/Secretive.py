import sys


class Secretive:
    """Procedures that put their `password` param everywhere a run writes text."""

    def __init__(self, logger) -> None:
        self.logger = logger

    def use(self, context: dict, params: dict) -> dict:
        password = params["password"]
        self.logger.info("connecting with password %s", password)
        print(f"stdout: {password}")
        print(f"stderr: {password}", file=sys.stderr)
        return {"seen": password, "nested": {password: ["x", f"pre-{password}-post"]}}

    def fail(self, context: dict, params: dict) -> dict:
        try:
            raise ConnectionError(f"the server refused {params['password']!r}")
        except ConnectionError:
            self.logger.exception("could not log in with %s", params["password"])
        raise RuntimeError(f"login failed for password {params['password']}")

    def peek(self, context: dict, params: dict) -> dict:
        # Read directly from the context, as a procedure may, instead of through params.
        secrets = context["_secret"]
        return {"has": params["secret"] in secrets, "value": secrets.get(params["secret"], "none")}

    def echo(self, context: dict, params: dict) -> dict:
        return dict(params)

    def big(self, context: dict, params: dict) -> dict:
        # Over the stored size, with the password starting `at` characters into the result's
        # JSON, so that a preview cut there goes through it.
        start = '{"padding": "'
        padding = "x" * (params["at"] - len(start) - len('", "seen": "'))
        return {"padding": padding, "seen": params["password"], "rest": "y" * 300_000}
