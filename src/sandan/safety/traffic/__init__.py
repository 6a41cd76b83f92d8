"""AI traffic signals: the complex's road network in SUMO, shift-change demand, max-pressure
control over TraCI compared with the fixed-time plan."""
