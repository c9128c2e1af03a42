"""Cases: overdue accounts with encrypted debtor PII, buckets, flags, eligibility and
imports of cases and of the bank's ledger (DOMAIN.md §2)."""
