from django.contrib import admin
from django.urls import include, path

# Django's auth views as the admin wires them (LOGIN_URL is admin:login), in the product's
# look: the same header and stylesheet as the dashboard, not "Django administration".
admin.site.login_template = "registration/login.html"
admin.site.logout_template = "registration/logged_out.html"
admin.site.site_header = "Workflows administration"
admin.site.site_title = "Workflows admin"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("", include("flows.urls")),
    # After flows.urls, which registers the <flow:> converter the API's pages use too.
    path("", include("api.urls")),
    path("", include("vault.urls")),
]
