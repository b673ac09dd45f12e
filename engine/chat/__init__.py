"""Conversations: what parents (SMS) and staff (Telegram) send, parsed and answered."""
