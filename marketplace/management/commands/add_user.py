"""manage.py add_user USERNAME --role ROLE [--org USCC] [--email E] [--categories C,...]"""

from __future__ import annotations

import getpass
import secrets
import sys
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import (
    BaseCommand,
    CommandError,
    CommandParser,
    no_translations,
)
from django.db import transaction

from evaluation.services import assessor_pool_join
from marketplace.models import ORG_ROLES, Role
from marketplace.services import user_create
from orgs_registry.identifiers import validate_uscc
from orgs_registry.selectors import organization_get_by_uscc, service_category_list


class Command(BaseCommand):
    help = (
        "Create a user with one role. The password is read from standard input; when none "
        "is given, a strong one is generated and printed."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--role", required=True, help="one of: " + ", ".join(Role.values))
        parser.add_argument("--org", dest="uscc", help="USCC of the organization (org roles)")
        parser.add_argument("--email", default="")
        parser.add_argument("--name", dest="full_name", default="", help="the person's name")
        parser.add_argument(
            "--categories",
            default="",
            help="assessors: comma-separated service category codes (default: all)",
        )

    @no_translations  # operators and scripts read this output: plain English
    def handle(self, *args: Any, **options: Any) -> None:
        username: str = options["username"]
        role: str = options["role"]
        if role not in Role.values:
            raise CommandError(f"unknown role '{role}'; choose one of: {', '.join(Role.values)}")
        organization = self._organization(role, options["uscc"])
        categories = self._categories(role, options["categories"])

        password, generated = self._password()
        try:
            with transaction.atomic():
                user = user_create(
                    username=username,
                    role=role,
                    password=password,
                    actor=None,
                    organization=organization,
                    email=options["email"],
                    full_name=options["full_name"],
                )
                if role == Role.ASSESSOR:
                    assessor_pool_join(user=user, categories=categories, actor=None)
        except ValidationError as exc:
            raise CommandError(self._describe(exc, username)) from exc

        where = f" of {organization.name}" if organization else ""
        self.stdout.write(self.style.SUCCESS(f"Created user {username} ({role}{where})."))
        if generated:
            self.stdout.write(f"Password: {password}")

    def _organization(self, role: str, uscc: str | None) -> Any:
        if role not in ORG_ROLES:
            if uscc:
                raise CommandError(f"role {role} does not belong to an organization; drop --org")
            return None
        if not uscc:
            raise CommandError(f"role {role} needs --org USCC of a registered organization")
        try:
            normalized = validate_uscc(uscc)
        except ValueError as exc:
            raise CommandError(f"--org {uscc}: {exc}") from exc
        organization = organization_get_by_uscc(uscc=normalized)
        if organization is None:
            raise CommandError(
                f"no organization is registered with USCC {normalized}; register it first"
            )
        return organization

    def _categories(self, role: str, raw: str) -> list[Any]:
        codes = [code.strip() for code in raw.split(",") if code.strip()]
        if not codes:
            return []
        if role != Role.ASSESSOR:
            raise CommandError("--categories is only for assessors")
        known = {category.code: category for category in service_category_list()}
        unknown = [code for code in codes if code not in known]
        if unknown:
            raise CommandError(
                f"unknown service categories: {', '.join(unknown)}; known: {', '.join(known)}"
            )
        return [known[code] for code in codes]

    def _password(self) -> tuple[str, bool]:
        if sys.stdin is None:
            password = ""
        elif sys.stdin.isatty():
            password = getpass.getpass("Password (empty to generate one): ")
        else:
            password = sys.stdin.readline().rstrip("\r\n")
        if password:
            return password, False
        return secrets.token_urlsafe(12), True

    @staticmethod
    def _describe(exc: ValidationError, username: str) -> str:
        if not hasattr(exc, "error_dict"):
            return "; ".join(exc.messages)
        problems = []
        for field, errors in exc.error_dict.items():
            if field == "username" and any(error.code == "unique" for error in errors):
                problems.append(f"user '{username}' already exists; nothing was changed")
            else:
                messages = [message for error in errors for message in error.messages]
                problems.append(f"{field}: {' '.join(messages)}")
        return "; ".join(problems)
