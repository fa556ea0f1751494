"""CaseRoom's local runtime: the real Lambda handlers, in-process, against moto on 127.0.0.1.

Start it with `python -m local` (or the `caseroom-local` script). Importing this package
does nothing but define names; every server starts only when asked.
"""
