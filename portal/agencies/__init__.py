"""Agencies: register, application and vetting checklist, documents, inspections,
four-eyes approval, contracts, lifecycle and the expiry watch (DOMAIN.md §1)."""
