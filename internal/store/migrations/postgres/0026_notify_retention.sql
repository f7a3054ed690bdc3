-- Delivery-log retention (--notify-retention-days): the hourly prune finds
-- old log entries by time, and the delivered email, SMS and webhook
-- deliveries whose text it has not cleared yet, without reading the outbox.
CREATE INDEX outbox_attempts_at ON outbox_attempts(at);
CREATE INDEX outbox_messages_prunable ON outbox_messages(delivered_at)
	WHERE status = 'delivered' AND channel <> 'in_app' AND body_zh <> '';
