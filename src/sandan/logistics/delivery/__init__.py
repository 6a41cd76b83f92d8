"""Joint delivery: the shipments of many tenants for a day, routed together on one fleet."""
