"""Identity: users, roles, login with lockout, TOTP, sessions, API tokens."""
