from runner.engine.declare import param, procedure, result


class Declared:
    """Procedures with declarations, for the declaration and catalogue tests."""

    def __init__(self, logger) -> None:
        self.logger = logger

    @procedure(
        params={
            "who": param("string", required=True, description="whom to greet"),
            "greeting": param("string", default="Hello", choices=("Hello", "Hi")),
            "times": param("integer", default=1),
        },
        results={"msg": result("string", "the greeting"), "count": result("integer")},
    )
    def greet(self, context, params: dict) -> dict:
        """Greets someone by name.

        The greeting is repeated ``times`` times.
        """
        return {"msg": " ".join([f"{params['greeting']} {params['who']}"] * params["times"]), "count": 1}

    @procedure(
        "Returns the params it was given, after adding to its tags.",
        params={
            "tags": param("array", default=[]),
            "options": param("object", default={"loud": False}),
            "ratio": param("number", default=None),
            "shout": param("boolean", default=False),
            "label": param(),
        },
        results={"params": result("object")},
    )
    def given(self, context, params: dict) -> dict:
        params["tags"].append("seen")
        params["options"]["touched"] = True
        return {"params": params}

    @procedure(
        params={"known": param("string")}, results={"known": result()}, extra_params=True, extra_results=True
    )
    def anything(self, context, params: dict) -> dict:
        return dict(params)

    @procedure(params={"n": param("number", required=True)})
    def opaque(self, context, params: dict) -> dict:
        """Declares its params but not its result keys."""
        return {"n": params["n"]}

    @procedure(
        params={"text": param("string", description='<b>bold</b> & "quoted"')},
        results={"html": result("string", "<i>markup</i>")},
    )
    def markup(self, context, params: dict) -> dict:
        """<script>alert("doc")</script> in a docstring."""
        return {"html": params.get("text", "")}
