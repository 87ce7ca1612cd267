#!/usr/bin/env python3
"""Fails (exit 1, with the list) when the Indonesian catalogue is not complete and current.

Run from anywhere: ``.venv/bin/python scripts/check_catalogue.py`` (``make messages-check`` does, and
``make test`` runs that first). It checks locale/id/LC_MESSAGES/django.po for:

1. entries without a translation (an empty ``msgstr``, or an empty plural form);
2. entries marked ``#, fuzzy`` (msgmerge's guesses, which Django ignores);
3. python-format placeholders that differ between the English msgid and the translation;
4. msgids that ``makemessages`` would add: it runs ``manage.py makemessages`` (the same command as
   ``make messages``) on a temporary copy of the source tree, so the repository is never touched, and
   lists the strings in code and templates that the catalogue lacks (strings the code no longer uses are
   only reported: ``make messages`` removes them);
5. a django.mo that does not match django.po (the .mo is kept in the repository, so that installing the
   project needs no ``msgfmt``; ``make messages`` recompiles it);
6. translations that use a banned term: the words the project's glossary rules out (``macet``, ``remah roti``,
   ``penandatangan``, "perjanjian" for a KB, …), listed with what to write instead in scripts/banned_terms_id.txt.

Check 4 needs GNU gettext's ``xgettext``/``msgmerge`` (Debian package ``gettext``), as ``makemessages``
does; without them the script says so and fails, rather than passing without having looked.
No third-party package: the .po is read by the small parser below, the .mo by Python's ``gettext``.
"""

from __future__ import annotations

import ast
import gettext
import os
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LANGUAGE = "id"
PO = ROOT / "locale" / LANGUAGE / "LC_MESSAGES" / "django.po"
MO = PO.with_suffix(".mo")
BANNED_TERMS = ROOT / "scripts" / "banned_terms_id.txt"
# The command of `make messages`; the temporary copy below leaves out the same directories and more.
MAKEMESSAGES = ["makemessages", "-l", LANGUAGE, "--no-obsolete", "--ignore=.venv", "--ignore=staticfiles",
                "--ignore=media", "--ignore=artifacts", "--ignore=backups", "--ignore=build"]
NOT_COPIED = (".git", ".venv", "staticfiles", "media", "artifacts", "backups", "build", "node_modules",
              "__pycache__", ".ruff_cache", ".pytest_cache", "*.egg-info", "db.sqlite3*", "*.pyc")
PLACEHOLDER = re.compile(r"%\((\w+)\)[-#0 +]*\d*(?:\.\d+)?[diouxXeEfFgGcrsa]|%[-#0 +]*\d*(?:\.\d+)?[diouxXeEfFgGcrsa]")


@dataclass
class Entry:
    msgid: str = ""
    msgid_plural: str | None = None
    msgctxt: str | None = None
    msgstr: dict[int, str] = field(default_factory=dict)  # 0 for a singular entry, 0..n-1 for plural forms
    flags: set[str] = field(default_factory=set)
    line: int = 0

    @property
    def key(self) -> tuple[str | None, str]:
        return (self.msgctxt, self.msgid)


def parse_po(text: str) -> list[Entry]:
    """The entries of a .po file, header included (msgid ""); obsolete ``#~`` entries are skipped."""
    entries: list[Entry] = []
    current: Entry | None = None
    target: tuple[str, int] | None = None  # the field that continuation lines ("...") extend

    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#~"):
            if not line and current is not None:
                entries.append(current)
                current, target = None, None
            continue
        if line.startswith("#"):
            if current is not None and current.msgstr:  # the next entry starts without a blank line
                entries.append(current)
                current = None
            current = current or Entry(line=number)
            if line.startswith("#,"):
                current.flags.update(flag.strip() for flag in line[2:].split(","))
            continue
        if line.startswith('"'):
            if current is None or target is None:
                raise ValueError(f"line {number}: a string outside an entry")
        else:
            keyword, _, line = line.partition(" ")
            if current is not None and current.msgstr and keyword in ("msgctxt", "msgid"):
                entries.append(current)
                current = None
            current = current or Entry(line=number)
            plural_form = re.fullmatch(r"msgstr\[(\d+)\]", keyword)
            target = ("msgstr", int(plural_form.group(1))) if plural_form else (keyword, 0)
            if target[0] == "msgstr":
                current.msgstr.setdefault(target[1], "")
            elif target[0] in ("msgid", "msgid_plural", "msgctxt"):
                setattr(current, target[0], "")
            else:
                raise ValueError(f"line {number}: unknown keyword {keyword!r}")
        value = ast.literal_eval(line.strip())
        name, index = target
        if name == "msgstr":
            current.msgstr[index] += value
        else:
            setattr(current, name, getattr(current, name) + value)
    if current is not None:
        entries.append(current)
    return entries


def placeholders(text: str) -> tuple[set[str], list[str]]:
    """The named (``%(name)s``) and the positional (``%s``, ``%d``) placeholders of a python-format string."""
    found = [match.group(0) for match in PLACEHOLDER.finditer(text.replace("%%", ""))]
    return {p for p in found if p.startswith("%(")}, sorted(p for p in found if not p.startswith("%("))


def check_entries(entries: list[Entry]) -> list[str]:
    """Untranslated, fuzzy and placeholder problems, one line each ("kind  line N: 'msgid'")."""
    problems = []
    for entry in entries:
        if entry.msgid == "" and entry.msgctxt is None:
            continue  # the header
        where = f"line {entry.line}: {entry.msgid!r}"
        if "fuzzy" in entry.flags:
            problems.append(f"fuzzy        {where}")
        forms = [entry.msgstr.get(i, "") for i in range(max(entry.msgstr, default=0) + 1)]
        if not all(forms):
            problems.append(f"untranslated {where}")
            continue
        if "python-format" not in entry.flags:
            continue
        # Every translation keeps the placeholders of the English text (of its plural, for plural entries: with
        # one plural form, as Indonesian has, that form stands for every count) and adds none.
        named, positional = placeholders(entry.msgid)
        required, allowed = named, named
        if entry.msgid_plural is not None:
            required = placeholders(entry.msgid_plural)[0]
            allowed = named | required
        for form in forms:
            form_named, form_positional = placeholders(form)
            wrong_positional = entry.msgid_plural is None and form_positional != positional
            if form_named - allowed or required - form_named or wrong_positional:
                problems.append(f"placeholders {where}: {form!r}")
    return problems


@dataclass
class BannedTerm:
    pattern: re.Pattern
    instead: str


def read_banned_terms(text: str) -> list[BannedTerm]:
    """The rules of banned_terms_id.txt: one a line, a regular expression (case ignored), a tab, what to write."""
    terms = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or line.startswith("#"):
            continue
        pattern, _, instead = line.partition("\t")
        try:
            terms.append(BannedTerm(re.compile(pattern.strip(), re.IGNORECASE), instead.strip()))
        except re.error as error:
            raise SystemExit(f"check_catalogue: {BANNED_TERMS.name} line {number}: {error}") from error
    return terms


def check_banned_terms(entries: list[Entry], terms: list[BannedTerm]) -> list[str]:
    """Translations that use a word the glossary rules out, one line each, with what to write instead."""
    problems = []
    for entry in entries:
        if entry.msgid == "" and entry.msgctxt is None:
            continue
        for form in entry.msgstr.values():
            for term in terms:
                found = term.pattern.search(form)
                if found:
                    problems.append(f"banned term  line {entry.line}: {entry.msgid!r}: “{found.group(0)}” "
                                    f"(write: {term.instead})")
    return problems


def check_mo(entries: list[Entry]) -> list[str]:
    if not MO.exists():
        return [f"missing      {MO}: run `make messages`"]
    with MO.open("rb") as handle:
        catalog = gettext.GNUTranslations(handle)._catalog  # noqa: SLF001 - the parsed .mo, as Django reads it
    stale = []
    for entry in entries:
        if (entry.msgid == "" and entry.msgctxt is None) or "fuzzy" in entry.flags:
            continue
        msgid = entry.msgid if entry.msgctxt is None else f"{entry.msgctxt}\x04{entry.msgid}"
        if entry.msgid_plural is None:
            compiled = {0: catalog.get(msgid)}
        else:
            compiled = {i: catalog.get((msgid, i)) for i in entry.msgstr}
        if any(compiled[i] != entry.msgstr[i] for i in compiled if entry.msgstr[i]):
            stale.append(entry.msgid)
    if stale:
        return [f"stale .mo    {len(stale)} entries differ from django.po (e.g. {stale[0]!r}): run `make messages`"]
    return []


def msgfmt_check() -> list[str]:
    """GNU msgfmt's own checks (format strings, header, plural forms), the ones Django's compilemessages runs."""
    result = subprocess.run(["msgfmt", "--check", "-o", os.devnull, str(PO)], capture_output=True, text=True)
    if result.returncode == 0:
        return []
    errors = [line for line in result.stderr.splitlines() if "warning:" not in line] or result.stderr.splitlines()
    return [f"msgfmt       {line}" for line in errors]


def extracted_entries() -> list[Entry]:
    """The catalogue `make messages` would write now, made in a temporary copy of the source tree."""
    with tempfile.TemporaryDirectory(prefix="kerjasama-messages-") as tmp:
        copy = Path(tmp) / "src"
        shutil.copytree(ROOT, copy, ignore=shutil.ignore_patterns(*NOT_COPIED), symlinks=True)
        env = {**os.environ, "DEBUG": os.environ.get("DEBUG", "1"), "PYTHONDONTWRITEBYTECODE": "1"}
        env.pop("PYTHONPATH", None)
        result = subprocess.run(
            [sys.executable, "manage.py", *MAKEMESSAGES], cwd=copy, env=env, capture_output=True, text=True
        )
        if result.returncode != 0:
            raise SystemExit(f"check_catalogue: makemessages failed:\n{result.stdout}{result.stderr}")
        return parse_po((copy / PO.relative_to(ROOT)).read_text(encoding="utf-8"))


def main() -> int:
    if not PO.exists():
        print(f"check_catalogue: {PO.relative_to(ROOT)} is missing; run `make messages`")
        return 1
    for tool in ("xgettext", "msgmerge", "msguniq", "msgfmt"):
        if shutil.which(tool) is None:
            print(f"check_catalogue: {tool} not found; install GNU gettext (Debian: apt-get install gettext)")
            return 1
    entries = parse_po(PO.read_text(encoding="utf-8"))
    problems = check_entries(entries)
    problems += check_banned_terms(entries, read_banned_terms(BANNED_TERMS.read_text(encoding="utf-8")))
    problems += check_mo(entries)
    problems += msgfmt_check()

    current = {entry.key for entry in entries}
    extracted = extracted_entries()
    wanted = {entry.key for entry in extracted}
    for entry in extracted:
        if entry.key not in current:
            problems.append(f"new msgid    {entry.msgid!r} (not in the catalogue: run `make messages` and translate it)")
    unused = sorted(msgid for context, msgid in current - wanted if msgid)
    translated = sum(1 for entry in entries if entry.msgid and not entry.flags & {"fuzzy"})
    if unused:
        print(f"check_catalogue: note: {len(unused)} entries no longer used by the code (`make messages` drops them)")
    if problems:
        print(f"check_catalogue: locale/{LANGUAGE} catalogue is not complete ({len(problems)} problems):")
        for problem in problems:
            print(f"  {problem}")
        return 1
    print(f"check_catalogue: locale/{LANGUAGE}: {translated} entries, all translated, none fuzzy, "
          f"no banned term, nothing new to extract, django.mo up to date")
    return 0


if __name__ == "__main__":
    sys.exit(main())
