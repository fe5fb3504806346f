"""Testimonials: stories with consent, moderation and the wall, and the verified-student badge."""
