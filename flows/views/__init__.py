"""The dashboard's views, one module per area; flows/urls.py maps them."""
