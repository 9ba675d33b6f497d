"""One module per zoo family; each exports FORMULAS: {family name: fn(config, batch, seq) -> Breakdown}."""
