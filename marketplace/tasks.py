"""Background tasks of the marketplace (django-tasks, Django 6's ``django.tasks`` API)."""

from __future__ import annotations

from django.core.mail import EmailMultiAlternatives
from django_tasks import task


@task()
def send_email(
    *, subject: str, body: str, to: list[str], html_body: str = "", from_email: str = ""
) -> int:
    """Send one e-mail that was rendered (in its recipient's language) when it was queued."""
    message = EmailMultiAlternatives(
        subject=subject, body=body, to=to, from_email=from_email or None
    )
    if html_body:
        message.attach_alternative(html_body, "text/html")
    return message.send()
