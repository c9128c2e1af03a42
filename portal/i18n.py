"""Translation catalogues, one per capability, beside its code.

``python -m portal.i18n extract`` collects every translatable string of each capability
(its Python package and its templates folder) into
``portal/<capability>/translations/zh_Hans/LC_MESSAGES/messages.po``, keeping translations
already made. A test fails while any string has no Chinese translation.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from portal.config import PROJECT_ROOT

LOCALES = ("zh_Hans",)

# capability -> the source folders its strings come from
SOURCES: dict[str, list[str]] = {
    "web": ["portal/web", "templates/base.html", "templates/web", "portal/errors.py"],
    "identity": ["portal/identity", "templates/identity", "portal/security"],
    "auditing": ["portal/auditing", "templates/auditing"],
    "policies": ["portal/policies", "templates/policies"],
    "tasks": ["portal/tasks", "templates/tasks"],
    "agencies": ["portal/agencies", "templates/agencies"],
    "cases": ["portal/cases", "templates/cases"],
    "placements": ["portal/placements", "templates/placements"],
}


def catalogue_dir(capability: str) -> Path:
    return PROJECT_ROOT / "portal" / capability / "translations"


def extract(capability: str) -> None:
    sources = [s for s in SOURCES[capability] if (PROJECT_ROOT / s).exists()]
    if not sources:
        return
    out = catalogue_dir(capability)
    out.mkdir(parents=True, exist_ok=True)
    pot = out / "messages.pot"
    pybabel = str(Path(sys.executable).parent / "pybabel")
    subprocess.run([pybabel, "extract", "-F", str(PROJECT_ROOT / "babel.cfg"), "-k", "_l",
                    "--no-location", "--omit-header", "-o", str(pot), *sources],
                   cwd=PROJECT_ROOT, check=True, capture_output=True)
    for locale in LOCALES:
        po = out / locale / "LC_MESSAGES" / "messages.po"
        command = "update" if po.exists() else "init"
        subprocess.run([pybabel, command, "-i", str(pot), "-d", str(out), "-l", locale,
                        "--no-wrap"] + (["--ignore-obsolete"] if command == "update" else []),
                       cwd=PROJECT_ROOT, check=True, capture_output=True)


def main(argv: list[str]) -> int:
    if argv[:1] != ["extract"]:
        print("usage: python -m portal.i18n extract [capability ...]")
        return 2
    for capability in argv[1:] or list(SOURCES):
        extract(capability)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
