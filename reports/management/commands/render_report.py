"""manage.py render_report KIND [ID] --out FILE [--language en]: one PDF document."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from reports import documents


class Command(BaseCommand):
    help = (
        "Write one PDF document. KIND is one of: "
        + ", ".join(documents.KINDS)
        + ". Without ID the most recent object that has the document is used."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("kind", choices=documents.KINDS)
        parser.add_argument(
            "id", nargs="?", type=int, help="the object's id (a year for annual_statistics)"
        )
        parser.add_argument("--out", required=True, help="the PDF file to write")
        parser.add_argument(
            "--language",
            default="zh-hans",
            choices=documents.LANGUAGES,
            help="the document's language (default Chinese)",
        )

    def handle(self, *args, **options) -> None:
        kind = options["kind"]
        try:
            document = documents.document_for(kind)
        except LookupError as exc:
            raise CommandError(str(exc)) from exc
        if options["id"] is None:
            obj = document.latest()
            if obj is None:
                raise CommandError(f"There is nothing to print as {kind} yet.")
        else:
            try:
                obj = document.by_id(options["id"])
            except LookupError as exc:
                raise CommandError(f"{kind} {options['id']}: {exc}") from exc
        pdf = documents.render_document(kind, obj, user=None, language=options["language"])
        out = Path(options["out"])
        if out.parent and not out.parent.exists():
            raise CommandError(f"The folder {out.parent} does not exist.")
        out.write_bytes(pdf)
        self.stdout.write(f"{kind}: {out} ({len(pdf):,} bytes)")
