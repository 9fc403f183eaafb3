from string import Template


class Text:
    """Text building for flows: a reference replaces a whole string, this fills a template.

    ``fill`` with params ``{"template": "Hello $name", "values": {"name": "@step1.name"}}``
    returns ``{"text": "Hello Ann"}``. Placeholders use ``string.Template`` syntax (``$name``,
    ``${name}``, ``$$`` for a dollar sign), which cannot reach attributes of the values, unlike
    ``str.format``. A placeholder without a value fails the step.
    """

    def __init__(self, logger) -> None:
        self.logger = logger

    def fill(self, context, params: dict) -> dict:
        return {"text": Template(params["template"]).substitute(params.get("values", {}))}
