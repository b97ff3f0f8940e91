"""django-post_office's `send_queued_mail` sending the outbox's own emails, timed.

Run with `bench/.venv-postoffice/bin/python` (post_office is installed there only). Copies the
subject, bodies and recipient of the messages the outbox benchmark just sent (so both send the
same emails), queues them as post_office `Email` rows, then times `send_queued_mail` until none
is queued. Prints one JSON line.
"""

import argparse
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent.parent))


def main() -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--prefix", required=True, help="dedupe_key prefix of the outbox's run")
    parser.add_argument("--processes", type=int, default=1)
    args = parser.parse_args()

    os.environ["DJANGO_SETTINGS_MODULE"] = "bench.postoffice.settings"
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from post_office.models import STATUS, Email

    call_command("migrate", "post_office", verbosity=0)
    with connection.cursor() as cur:
        cur.execute(
            "SELECT recipient, subject, body_text, body_html FROM notifications_message "
            "WHERE dedupe_key LIKE %s AND status = 'sent' ORDER BY id",
            [f"{args.prefix}:%"],
        )
        rows = cur.fetchall()
    Email.objects.bulk_create(
        [
            Email(
                from_email="Demo shop <orders@example.com>",
                to=[recipient],
                subject=subject,
                message=text,
                html_message=html,
                status=STATUS.queued,
            )
            for recipient, subject, text, html in rows
        ],
        batch_size=1000,
    )
    started = time.perf_counter()
    call_command("send_queued_mail", processes=args.processes, verbosity=0)
    seconds = time.perf_counter() - started
    sent = Email.objects.filter(status=STATUS.sent).count()
    return {
        "emails": len(rows),
        "sent": sent,
        "failed": Email.objects.filter(status=STATUS.failed).count(),
        "seconds": seconds,
        "processes": args.processes,
    }


if __name__ == "__main__":
    print(json.dumps(main()))
