"""The hazard register: each company's facilities, hazardous materials and 24-hour emergency
contacts, and the complex's shelters, assembly points and evacuation routes."""
