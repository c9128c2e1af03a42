"""Field encryption and blind indexes: tampered, moved or foreign ciphertext is an error,
never garbage; rotation keeps everything readable; the index finds exact values only."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from portal.cases.models import Case
from portal.security import crypto, rotation
from portal.security.crypto import DecryptionError, FieldCipher, Keyring, aad_for
from tests.factories import case_record, system

ROW = uuid.UUID("00000000-0000-4000-8000-000000000001")
AAD = aad_for("cases", "phone", ROW)
KEYRING = Keyring.generate()  # one for the property test's many examples


@pytest.fixture
def cipher() -> FieldCipher:
    return FieldCipher(Keyring.generate())


def test_round_trip(cipher):
    blob = cipher.encrypt("13800138000", AAD)
    assert b"13800138000" not in blob
    assert cipher.decrypt(blob, AAD) == "13800138000"


def test_same_value_encrypts_differently_each_time(cipher):
    assert cipher.encrypt("张三", AAD) != cipher.encrypt("张三", AAD)


def test_ciphertext_names_the_key_that_made_it(cipher):
    assert cipher.key_id_of(cipher.encrypt("x", AAD)) == cipher.active_id


def test_wrong_key_with_the_same_id_is_an_error(cipher):
    blob = cipher.encrypt("13800138000", AAD)
    impostor = Keyring(cipher.active_id, {cipher.active_id: bytes(32)}, bytes(32))
    with pytest.raises(DecryptionError):
        FieldCipher(impostor).decrypt(blob, AAD)


def test_unknown_key_id_is_an_error(cipher):
    blob = cipher.encrypt("13800138000", AAD)
    with pytest.raises(DecryptionError, match="unknown key"):
        FieldCipher(Keyring.generate()).decrypt(blob, AAD)


def test_ciphertext_moved_to_another_row_is_an_error(cipher):
    blob = cipher.encrypt("13800138000", AAD)
    with pytest.raises(DecryptionError):
        cipher.decrypt(blob, aad_for("cases", "phone", uuid.uuid4()))


def test_ciphertext_moved_to_another_column_is_an_error(cipher):
    blob = cipher.encrypt("13800138000", AAD)
    with pytest.raises(DecryptionError):
        cipher.decrypt(blob, aad_for("cases", "national_id", ROW))


def test_ciphertext_moved_to_another_table_is_an_error(cipher):
    blob = cipher.encrypt("13800138000", AAD)
    with pytest.raises(DecryptionError):
        cipher.decrypt(blob, aad_for("users", "phone", ROW))


def test_a_flipped_bit_anywhere_is_an_error(cipher):
    blob = cipher.encrypt("上海市浦东新区1号", AAD)
    survived = []
    for index in range(len(blob)):
        for bit in range(8):
            tampered = bytearray(blob)
            tampered[index] ^= 1 << bit
            try:
                cipher.decrypt(bytes(tampered), AAD)
            except DecryptionError:
                continue
            survived.append((index, bit))
    assert survived == []


@pytest.mark.parametrize("cut", [0, 1, 2, 10, -1, -16])
def test_truncated_ciphertext_is_an_error(cipher, cut):
    blob = cipher.encrypt("13800138000", AAD)
    with pytest.raises(DecryptionError):
        cipher.decrypt(blob[:cut], AAD)


@settings(max_examples=200, deadline=None)
@given(value=st.text(), table=st.sampled_from(["cases", "users"]), column=st.text(min_size=1, max_size=20),
       row=st.uuids())
def test_any_text_round_trips_in_its_place(value, table, column, row):
    c = FieldCipher(KEYRING)
    aad = aad_for(table, column, row)
    assert c.decrypt(c.encrypt(value, aad), aad) == value


# -- blind index ------------------------------------------------------------------------
@pytest.mark.parametrize("written", ["13800138000", "+86 138 0013 8000", "138-0013-8000", "+8613800138000",
                                     " 138 0013 8000 ", "86 13800138000"])
def test_phone_blind_index_matches_the_same_number_in_any_format(cipher, written):
    assert cipher.blind_index("phone", written) == cipher.blind_index("phone", "13800138000")


@pytest.mark.parametrize("other", ["13800138001", "23800138000", "1380013800", "138001380000"])
def test_phone_blind_index_does_not_match_a_near_number(cipher, other):
    assert cipher.blind_index("phone", other) != cipher.blind_index("phone", "13800138000")


def test_national_id_blind_index_is_exact_but_case_and_space_insensitive(cipher):
    exact = cipher.blind_index("national_id", "11010519491231002X")
    assert cipher.blind_index("national_id", "110105 19491231 002x") == exact
    assert cipher.blind_index("national_id", "110105194912310021") != exact


def test_blind_index_kinds_do_not_collide(cipher):
    assert cipher.blind_index("phone", "13800138000") != cipher.blind_index("national_id", "13800138000")


def test_blind_index_depends_on_the_index_key(cipher):
    other = FieldCipher(Keyring(cipher.active_id, cipher.keyring.keys, bytes(32)))
    assert other.blind_index("phone", "13800138000") != cipher.blind_index("phone", "13800138000")


def test_blind_index_search_in_the_database_finds_exact_phone_only(db):
    from portal.cases.operations import insert_cases

    target, near = case_record(phone="13912345678"), case_record(phone="13912345679")
    insert_cases(db, system(), [target, near])
    index = crypto.cipher().blind_index("phone", "+86 139 1234 5678")
    assert list(db.scalars(select(Case.id).where(Case.phone_bidx == index))) == [target["id"]]


def test_keyring_survives_a_save_and_load(tmp_path):
    ring = Keyring.generate().with_new_active_key()
    ring.save(tmp_path / "k.json")
    loaded = Keyring.load(tmp_path / "k.json")
    assert loaded == ring
    assert (tmp_path / "k.json").stat().st_mode & 0o777 == 0o600


def test_malformed_or_inconsistent_keyring_is_refused():
    with pytest.raises(crypto.KeyringError):
        Keyring.from_json("{}")
    with pytest.raises(crypto.KeyringError):
        Keyring("missing", {"k1": bytes(32)}, bytes(32))
    with pytest.raises(crypto.KeyringError):
        Keyring("k1", {"k1": bytes(16)}, bytes(32))


# -- rotation against the test database ------------------------------------------------------
def _all_ciphertexts(database: Any) -> list[tuple[str, str, bytes]]:
    found = []
    with database.unit_of_work(write=False) as session:
        for spec in rotation.encrypted_columns():
            for name, stored in zip(spec.columns, spec.db_columns, strict=True):
                for row_id, blob in session.execute(select(spec.table.c.id, spec.table.c[stored])):
                    if blob is not None:
                        found.append((f"{spec.table.name}.{name}", str(row_id), blob))
    return found


def _insert(database: Any, records: list[dict[str, Any]]) -> None:
    from portal.cases.operations import insert_cases

    with database.unit_of_work() as session:
        insert_cases(session, system(), records)


def test_rotation_moves_every_ciphertext_to_the_new_key_and_keeps_it_readable(committed_db, settings):
    from tests.factories import make_user

    records = [case_record() for _ in range(25)]
    _insert(committed_db, records)
    with committed_db.unit_of_work() as session:
        user_id = make_user(session, "admin").id  # its TOTP secret is encrypted too
    old_key = crypto.cipher().active_id

    new_key = rotation.add_active_key(settings.keyring_path)
    assert new_key != old_key
    counts = rotation.reencrypt_all(committed_db, batch_size=7)

    assert counts["cases"] == 25 * 4 - sum(1 for r in records if r["address"] is None)
    blobs = _all_ciphertexts(committed_db)
    assert blobs and {crypto.cipher().key_id_of(b) for _, _, b in blobs} == {new_key}
    with committed_db.unit_of_work(write=False) as session:
        for rec in records:
            case = session.get(Case, rec["id"])
            assert (case.debtor_name, case.national_id, case.phone, case.address) == (
                rec["debtor_name"], rec["national_id"], rec["phone"], rec["address"])
        from portal.identity.models import User

        assert len(session.get(User, user_id).totp_secret) >= 16
    # Nothing left to do: a second run changes nothing.
    assert sum(rotation.reencrypt_all(committed_db).values()) == 0


def test_rotation_never_overwrites_a_value_changed_while_it_runs(committed_db, settings, monkeypatch):
    records = [case_record() for _ in range(5)]
    _insert(committed_db, records)
    victim = records[2]["id"]
    rotation.add_active_key(settings.keyring_path)
    original = rotation._batches

    def racing(database: Any, spec: Any, size: int) -> Any:
        for rows in original(database, spec, size):
            if spec.table.name == "cases":
                # The portal changes a phone after rotation read the batch, before it writes.
                with database.unit_of_work() as session:
                    session.get(Case, victim).phone = "13700000000"
            yield rows

    monkeypatch.setattr(rotation, "_batches", racing)
    rotation.reencrypt_all(committed_db, batch_size=100)
    with committed_db.unit_of_work(write=False) as session:
        case = session.get(Case, victim)
        assert case.phone == "13700000000"
        assert case.phone_bidx == crypto.cipher().blind_index("phone", "13700000000")
        assert session.get(Case, records[1]["id"]).phone == records[1]["phone"]
