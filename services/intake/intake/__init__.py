"""Intake service: one-window intake (一窗受理) of applications and their cases (办件)."""
