"""Bridge from the hall's event stream to the counter LED screens on a serial line
(``hallq led-bridge``)."""
