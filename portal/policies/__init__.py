"""Policies: every rule number is a row here, loaded from named presets and tunable by
an admin (audited). Code asks ``policies.value(session, key)``; it holds no numbers."""
