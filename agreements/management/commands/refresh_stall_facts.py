"""Recompute the stored stall facts and today's stored status of every agreement (after a restore or a raw SQL
change)."""

from django.core.management.base import BaseCommand, CommandError

from agreements import stalls


class Command(BaseCommand):
    help = ("Recompute the milestone and PKS facts the stall rules read and today's stored stage and stall flags; "
            "--check only reports stale ones.")

    def add_arguments(self, parser):
        parser.add_argument("--check", action="store_true", help="Report agreements with stale facts; exit 1 if any.")

    def handle(self, *args, check, **options):
        stale = stalls.stale_facts()
        if check:
            if stale:
                raise CommandError(f"{len(stale)} agreements have stale stall facts: {stale[:20]}")
            status = stalls.stale_status()
            if status:
                raise CommandError(f"{len(status)} agreements have a stale stored status for today: {status[:20]}")
            self.stdout.write("Stall facts are up to date.")
            return
        stalls.refresh_facts()  # every agreement: the facts, then today's status and its stamp
        self.stdout.write(f"Recomputed the stall facts ({len(stale)} were stale) and today's stored status.")
