"""Appointments (预约办理): bookable slots, phone and staff booking, kiosk check-in."""
