"""Every user-facing string has a Simplified Chinese translation, and the catalogues are
current: a string added to code or a template without a translation fails here."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from portal.config import PROJECT_ROOT
from portal.i18n import SOURCES
from tests.conftest import login
from tests.factories import make_user

CAPABILITIES = [c for c in SOURCES if any((PROJECT_ROOT / s).exists() for s in SOURCES[c])]


def _po(capability: str) -> Path:
    return PROJECT_ROOT / "portal" / capability / "translations" / "zh_Hans" / "LC_MESSAGES" / "messages.po"


@pytest.mark.parametrize("capability", CAPABILITIES)
def test_every_string_of_each_capability_has_a_chinese_translation(capability, tmp_path):
    po = _po(capability)
    assert po.exists(), f"no catalogue for {capability}: run `make translations`"
    with po.open("rb") as handle:
        catalogue = read_po(handle)
    translated = {m.id if isinstance(m.id, str) else m.id[0] for m in catalogue if m.id and m.string and "fuzzy" not in m.flags}
    pot = tmp_path / "messages.pot"
    sources = [s for s in SOURCES[capability] if (PROJECT_ROOT / s).exists()]
    subprocess.run([str(Path(sys.executable).parent / "pybabel"), "extract", "-F", str(PROJECT_ROOT / "babel.cfg"),
                    "-k", "_l", "--no-location", "-o", str(pot), *sources],
                   cwd=PROJECT_ROOT, check=True, capture_output=True)
    with pot.open("rb") as handle:
        wanted = {m.id if isinstance(m.id, str) else m.id[0] for m in read_po(handle) if m.id}
    missing = sorted(wanted - translated)
    assert not missing, f"{capability}: untranslated (run `make translations`, then translate): {missing[:20]}"


def test_pages_render_in_chinese_after_the_language_switch(db, client):
    user = make_user(db, "auditor")
    login(client, user)
    page = client.get("/home").get_data(as_text=True)
    assert "Audit log" in page
    from tests.conftest import csrf_from

    client.post("/language", data={"csrf_token": csrf_from(page), "lang": "zh_Hans", "next": "/home"})
    page = client.get("/home").get_data(as_text=True)
    assert 'lang="zh-Hans"' in page
    assert "审计日志" in page and "退出" in page


def test_a_string_means_the_same_in_every_catalogue():
    """The catalogues are merged into one at run time: a string two capabilities share must
    have one translation, or one of them shows the other's words."""
    meanings: dict[str, dict[str, str]] = {}
    for capability in CAPABILITIES:
        with _po(capability).open("rb") as handle:
            for message in read_po(handle):
                if message.id and message.string:
                    key = message.id if isinstance(message.id, str) else message.id[0]
                    text = message.string if isinstance(message.string, str) else message.string[0]
                    meanings.setdefault(key, {})[capability] = text
    clashes = {k: v for k, v in meanings.items() if len(set(v.values())) > 1}
    assert not clashes, f"one English string, several translations: {clashes}"
