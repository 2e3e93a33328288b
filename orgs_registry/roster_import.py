"""Importing an organization's staff roster from CSV or XLSX (pandas): all or nothing.

Interface (used by the roster page and the API; implemented by the import work):

    result = roster_import(organization=org, actor=user, upload=file)   # file-like, .name
    # -> RosterImportResult(rows=N, people_created=M)
    # raises RosterImportError(problems=[RowProblem(row=3, column="id_number", problem="...")])
    #   (a ValidationError subclass; str(problem) == "row 3: id_number: ...")
    # raises ValidationError({"file": [...]}) when the file itself is unusable
    #   (too big, not CSV/XLSX by content, unreadable, missing columns)
"""
