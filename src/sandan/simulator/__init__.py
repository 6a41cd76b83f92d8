"""A synthetic complex that feeds live machine and sensor data (built with the telemetry module).

`sandan demo` attaches it after seeding; until then the demo serves the registry only.
"""
