"""Eco-smart water: a WNTR model of the complex's network, flow balance and minimum night
flow per district metered area (DMA) with per-factory night profiles, leak alarms, and
what-if pipe breaks."""
