"""Install the default guidance pages (one per phase of the procedure, one per cooperation kind, in Indonesian and
English). Idempotent: pages that exist are left as administrators edited them, unless --overwrite."""

from django.core.management.base import BaseCommand

from agreements import guidance_defaults


class Command(BaseCommand):
    help = "Create the default guidance pages that are missing; --overwrite resets the existing ones to the defaults."

    def add_arguments(self, parser):
        parser.add_argument("--overwrite", action="store_true",
                            help="Reset the default pages that exist to the default text (edits are lost).")

    def handle(self, *args, overwrite, **options):
        created, updated = guidance_defaults.install(overwrite=overwrite)
        self.stdout.write(f"Guidance pages: {created} created, {updated} reset, "
                          f"{len(guidance_defaults.PAGES) - created - updated} left as they were.")
