from orders.services.affinities import product_affinities_compute
from orders.services.customers import consent_record, customer_upsert, phone_to_e164
from orders.services.orders import (
    OrderIngestResult,
    order_cancel,
    order_ingest,
    order_mark_paid,
    order_transition,
    order_update,
)
from orders.services.problems import (
    problem_report_create,
    problem_report_notify_shop,
    problem_report_recipients,
)
from orders.services.shipments import (
    order_deliver_if_complete,
    shipment_ingest,
    shipment_tracking_info_update,
    shipment_transition,
    shipment_upsert,
    tracking_event_record,
)

__all__ = [
    "OrderIngestResult",
    "consent_record",
    "customer_upsert",
    "order_cancel",
    "order_deliver_if_complete",
    "order_ingest",
    "order_mark_paid",
    "order_transition",
    "order_update",
    "phone_to_e164",
    "problem_report_create",
    "problem_report_notify_shop",
    "problem_report_recipients",
    "product_affinities_compute",
    "shipment_ingest",
    "shipment_tracking_info_update",
    "shipment_transition",
    "shipment_upsert",
    "tracking_event_record",
]
