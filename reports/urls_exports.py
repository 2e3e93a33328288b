"""Pages of the reports app: exports of the list pages (see reports/views_exports.py).

``reports:export`` takes ``[list_name, fmt]``; ``reports:export_of`` ``[list_name, pk, fmt]``
for the lists of one object's rows (the bids of a tender). ``fmt`` is ``csv`` or ``xlsx``.
"""

from django.urls import re_path

from reports import views_exports

urlpatterns: list = [
    re_path(
        r"^exports/(?P<list_name>[-a-z0-9_]+)\.(?P<fmt>csv|xlsx)$",
        views_exports.export,
        name="export",
    ),
    re_path(
        r"^exports/(?P<list_name>[-a-z0-9_]+)/(?P<pk>[0-9]{1,18})\.(?P<fmt>csv|xlsx)$",
        views_exports.export,
        name="export_of",
    ),
]
