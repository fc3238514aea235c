"""Bridges from serial hardware to hallq: the hall's event stream to the counter LED
screens, keypads and rating pads (``hallq led-bridge``), and a kiosk's serial
QR / ID-card scanner to its kiosk page (``hallq scanner-bridge``)."""
