"""Notifications: events written to the outbox in the causing transaction, delivered by the
workers to in-app, e-mail, SMS, government IM robots and webhooks (docs/notifications.md)."""
