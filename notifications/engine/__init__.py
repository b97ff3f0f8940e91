"""The messaging engine: it schedules, renders, checks and sends whatever message kinds the apps
register, and knows no app above it by name.

- the outbox: `scheduling` (the one entry point that owes a customer a message), `planning`
  (a kind's plans scheduled on the channels the customer can receive), `dispatch` (the due rows
  claimed and queued), `sending` and `attempts` (claim, call the provider, record),
  `operations` (staff's retry, cancel, settle);
- `channels/`: the provider adapters behind one small interface;
- compliance: `compliance`, `recipients` (consent), `suppression`, `suppression_list`,
  `suppression_repair`, `quiet_hours`, `text_opt_outs`, `preferences`;
- `receipts/`: what providers report back (delivery status, opens, bounces) and inbound texts;
  `inbound_texts`: the handlers and listeners apps above register for each inbound text;
- rendering: `rendering` (default and shop templates), `templating` (the shop's templates,
  their restricted engine and the editor's preview), `links`;
- `kinds`: the registered kinds as the engine uses them (each shop's flows of them, labels).

It may read `orders`, the layer below, for the order or customer a message is about; the apps'
own kinds (and the flows in `notifications.flows`) reach it only through the kernel's registry
(`postpurchase.message_kinds`).
"""
