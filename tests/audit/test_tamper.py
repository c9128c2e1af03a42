"""Tampering with the audit log is detected, and the first bad entry is named.

Each test first drops the append-only triggers, as the database owner could: the chain,
not the triggers, is what catches them then. (The triggers are proven separately.)
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import DBAPIError

from audit.log import entry_hash
from audit.models import AuditEntry, AuditHead
from audit.schema import drop_protection
from audit.verify import verify_chain
from portal import clock
from tests.audit.helpers import TABLE, append

FIELDS = {
    "at": lambda e: e.at + timedelta(microseconds=1),
    "actor_id": lambda e: "someone-else",
    "actor_label": lambda e: "someone else",
    "action": lambda e: "test.other",
    "object_type": lambda e: "other",
    "object_id": lambda e: "obj-x",
    "before": lambda e: {"n": 99},
    "after": lambda e: {"n": 100},
    "reason": lambda e: "a better story",
    "prev_hash": lambda e: b"\x01" * 32,
    "entry_hash": lambda e: b"\x02" * 32,
}


@pytest.fixture
def chain(db: Any) -> list[int]:
    """Six fresh entries in the test's transaction; the triggers dropped (rolled back after)."""
    seqs = append(db, 6)
    db.flush()
    drop_protection(db.connection())
    return seqs


def verdict(db: Any) -> Any:
    db.expire_all()  # the rows changed under the session's identity map
    return verify_chain(db)


def entry(db: Any, seq: int) -> AuditEntry:
    return db.scalars(select(AuditEntry).where(AuditEntry.seq == seq)).one()


def test_untouched_chain_verifies(db, chain):
    result = verdict(db)
    assert result.ok and result.first_bad_seq is None
    assert result.head_seq == chain[-1] and result.checked == chain[-1]


@pytest.mark.parametrize("field", sorted(FIELDS))
def test_editing_any_field_of_an_entry_is_detected_at_that_entry(db, chain, field):
    target = chain[2]
    db.execute(update(TABLE).where(TABLE.c.seq == target).values({field: FIELDS[field](entry(db, target))}))
    result = verdict(db)
    assert not result.ok
    assert result.first_bad_seq == target, result.problem


def test_editing_the_first_entry_is_detected(db, chain):
    first = db.scalar(select(AuditEntry.seq).order_by(AuditEntry.seq).limit(1))
    db.execute(update(TABLE).where(TABLE.c.seq == first).values(reason="rewritten"))
    assert verdict(db).first_bad_seq == first


def test_deleting_an_entry_in_the_middle_is_detected_at_the_gap(db, chain):
    db.execute(delete(TABLE).where(TABLE.c.seq == chain[2]))
    result = verdict(db)
    assert not result.ok and result.first_bad_seq == chain[2]
    assert "missing" in result.problem


def test_deleting_the_last_entry_is_detected(db, chain):
    db.execute(delete(TABLE).where(TABLE.c.seq == chain[-1]))
    result = verdict(db)
    assert not result.ok and result.first_bad_seq == chain[-1]


def test_deleting_the_last_entry_and_rewinding_the_head_needs_the_old_hash(db, chain):
    # Even an owner who rewinds the head's seq is caught unless they also forge its hash.
    db.execute(delete(TABLE).where(TABLE.c.seq == chain[-1]))
    db.execute(update(AuditHead).where(AuditHead.id == 1).values(seq=chain[-2]))
    result = verdict(db)
    assert not result.ok and result.first_bad_seq == chain[-2]


def test_reordering_two_entries_is_detected_at_the_first_of_them(db, chain):
    a, b = chain[1], chain[2]
    db.execute(update(TABLE).where(TABLE.c.seq == a).values(seq=-1))
    db.execute(update(TABLE).where(TABLE.c.seq == b).values(seq=a))
    db.execute(update(TABLE).where(TABLE.c.seq == -1).values(seq=b))
    result = verdict(db)
    assert not result.ok and result.first_bad_seq == a


def _forged_row(db: Any, seq: int, prev: bytes, *, valid_hash: bool) -> dict[str, Any]:
    forged = AuditEntry(seq=seq, at=clock.now(), actor_id=None, actor_label="forger", action="case.written_off",
                        object_type="case", object_id="c-1", before=None, after={"ok": True},
                        reason="forged", prev_hash=prev)
    from audit.log import hashed_fields

    forged.entry_hash = entry_hash(prev, hashed_fields(forged)) if valid_hash else b"\x03" * 32
    return {column.name: getattr(forged, column.name) for column in TABLE.columns}


def _make_room_at(db: Any, seq: int, last: int) -> None:
    for s in range(last, seq - 1, -1):  # shift the tail up by one, from the end
        db.execute(update(TABLE).where(TABLE.c.seq == s).values(seq=s + 1))


def test_inserting_an_entry_in_the_middle_is_detected_at_the_forgery(db, chain):
    at = chain[3]
    prev = entry(db, at - 1).entry_hash
    _make_room_at(db, at, chain[-1])
    db.execute(insert(TABLE).values(_forged_row(db, at, prev, valid_hash=False)))
    result = verdict(db)
    assert not result.ok and result.first_bad_seq == at


def test_inserting_a_well_forged_entry_breaks_the_link_of_the_next(db, chain):
    # A forger who recomputes the inserted entry's own hash still cannot make the next
    # entry follow it without rewriting everything after (which the head then betrays).
    at = chain[3]
    prev = entry(db, at - 1).entry_hash
    _make_room_at(db, at, chain[-1])
    db.execute(insert(TABLE).values(_forged_row(db, at, prev, valid_hash=True)))
    result = verdict(db)
    assert not result.ok and result.first_bad_seq == at + 1


def test_appending_an_entry_behind_the_heads_back_is_detected_at_it(db, chain):
    last = entry(db, chain[-1])
    db.execute(insert(TABLE).values(_forged_row(db, chain[-1] + 1, last.entry_hash, valid_hash=True)))
    result = verdict(db)
    assert not result.ok and result.first_bad_seq == chain[-1] + 1


def test_changing_the_head_hash_is_detected(db, chain):
    db.execute(update(AuditHead).where(AuditHead.id == 1).values(entry_hash=b"\x04" * 32))
    result = verdict(db)
    assert not result.ok and result.first_bad_seq == chain[-1]


# -- the append-only triggers ----------------------------------------------------------------
def test_triggers_refuse_update_of_an_entry(db):
    seq, = append(db, 1)
    db.flush()
    with pytest.raises(DBAPIError, match="append-only"), db.begin_nested():
        db.execute(update(TABLE).where(TABLE.c.seq == seq).values(reason="rewritten"))
    db.expire_all()
    assert entry(db, seq).reason == "step 0"


def test_triggers_refuse_delete_of_an_entry(db):
    seq, = append(db, 1)
    db.flush()
    with pytest.raises(DBAPIError, match="append-only"), db.begin_nested():
        db.execute(delete(TABLE).where(TABLE.c.seq == seq))
    db.expire_all()
    assert entry(db, seq).seq == seq
    assert verify_chain(db).ok
