"""The admin site: Django's, refusing NUL in a page's query.

Admin list filters hand query values to the database as they are (``?status__exact=``,
``?username=``, on every model, Django's own included), and PostgreSQL cannot hold NUL in text:
such a query raised there (500), where SQLite took it.
"""

import functools

from django.contrib import admin
from django.contrib.admin.apps import AdminConfig
from django.http import HttpResponseBadRequest


class AdminSite(admin.AdminSite):
    def admin_view(self, view, cacheable=False):
        checked = super().admin_view(view, cacheable)

        @functools.wraps(checked)
        def refuse_nul(request, *args, **kwargs):
            if any("\x00" in text for pair in request.GET.lists() for text in (pair[0], *pair[1])):
                return HttpResponseBadRequest("The query contains a NUL character, which no admin filter takes.")
            return checked(request, *args, **kwargs)

        return refuse_nul


class AdminSiteConfig(AdminConfig):
    default_site = "config.admin.AdminSite"
