"""Delivery: building messages and sending them (transports and the send loop)."""
