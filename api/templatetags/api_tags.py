"""Template tags of the API app: the flow page's Webhook section."""

from django import template

from api.webhooks import hook_of
from flows.access import CHANGE_FLOWS

register = template.Library()


@register.inclusion_tag("api/_flow_webhook.html", takes_context=True)
def flow_webhook(context: template.Context, flow) -> dict:
    """The Webhook section of a flow's page; empty for users who may not change the flow."""
    user = context["request"].user
    can_change = user.has_perm(CHANGE_FLOWS)
    return {
        "flow": flow,
        "can_change": can_change,
        "hook": hook_of(flow.pk) if can_change else None,
        "csrf_token": context.get("csrf_token"),
    }
