"""Placements: batches, allocation strategies, release (four eyes), recall,
reconciliation and commission (DOMAIN.md §2)."""
