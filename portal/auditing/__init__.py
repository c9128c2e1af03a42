"""The auditor's door to the audit log: browse entries and verify the chain."""
