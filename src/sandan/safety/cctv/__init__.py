"""CCTV analytics events (Frigate MQTT and a generic webhook) mapped to cameras and alarms."""
