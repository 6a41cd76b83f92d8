"""The shared logistics terminal: multi-tenant warehouse, docks and yard, joint delivery."""
