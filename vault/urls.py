from django.urls import path

from vault import views

urlpatterns = [
    path("secrets/", views.secret_list, name="wf-secrets"),
    path("secrets/add/", views.secret_add, name="wf-secret-add"),
    path("secrets/<str:name>/", views.secret_edit, name="wf-secret"),
    path("secrets/<str:name>/delete/", views.secret_delete, name="wf-secret-delete"),
]
