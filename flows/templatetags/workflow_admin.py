"""Filters of the admin's own templates (templates/admin/)."""

from django import template

from workflow_site.admin_base import product_first

register = template.Library()
register.filter("product_first", product_first)
