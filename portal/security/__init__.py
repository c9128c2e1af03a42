"""Security in the structure: keys and field encryption, passwords, MFA, the one access
policy, and the one path to agency-scoped rows."""
