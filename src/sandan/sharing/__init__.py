"""Data sharing and trading between companies: catalogue, usage policies, contracts,
governed access, metering, settlement and private benchmarks (issue 4)."""
