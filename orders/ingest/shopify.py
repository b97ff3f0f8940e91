"""Processor for shopify webhook deliveries (registered with orders.ingest.webhooks on import)."""
