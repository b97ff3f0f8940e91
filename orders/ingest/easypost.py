"""Processor for easypost webhook deliveries (registered with orders.ingest.webhooks on import)."""
