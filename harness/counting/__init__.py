"""FLOP counting: the dispatch counter, its formulas, external adapters and reconciliation."""
