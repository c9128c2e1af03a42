"""Trust: the append-only, hash-chained audit log and what an auditor verifies with it."""
