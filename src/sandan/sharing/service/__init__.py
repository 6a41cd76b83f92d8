"""The rules of data sharing, one module per step: offers and the catalogue, negotiation,
governed access and metering, the ledger and statements, private benchmarks."""
