"""``manage.py seed_demo``: fill an empty database with demo agreements and the demo accounts."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from agreements import demo
from agreements.management import add_as_of_argument, parse_as_of
from agreements.models import Agreement


class Command(BaseCommand):
    help = (
        "Create demo data: N agreements on the real regions and affairs (every stage, each stall reason, "
        "milestones with updates), the superuser 'admin' and the demo officers kemendagri, jabar, "
        "kota-bandung and kab-bogor, all with the password 'kerjasama-demo'. The same --seed and --as-of "
        "always give the same data. It only fills an EMPTY database: when agreements exist it refuses "
        "(exit status 1) and changes nothing, or with --if-empty does nothing and exits 0. With DEBUG off "
        "it refuses unless --force is given."
    )

    def add_arguments(self, parser):
        parser.add_argument("--agreements", type=int, default=400, help="Number of agreements (default 400).")
        parser.add_argument("--seed", type=int, default=2024, help="Random seed (default 2024).")
        add_as_of_argument(parser, help="Anchor date YYYY-MM-DD for the relative dates (default today).")
        parser.add_argument(
            "--if-empty", action="store_true", help="Do nothing (exit 0) when agreements already exist."
        )
        parser.add_argument("--force", action="store_true", help="Run even when DEBUG is off.")

    def handle(self, *args, agreements, seed, as_of, if_empty, force, **options):
        if not settings.DEBUG and not force:
            raise CommandError(
                _("DEBUG is off: this looks like a real server. seed_demo creates accounts with a published "
                  "password; run it with --force if you really mean to.")
            )
        as_of = parse_as_of(as_of)
        if agreements < 1:
            raise CommandError(_("--agreements must be at least 1."))
        existing = Agreement.objects.count()
        if existing:
            message = _(
                "The database already has %(count)d agreements; seed_demo only fills an empty database. "
                "Nothing was changed."
            ) % {"count": existing}
            if if_empty:
                self.stdout.write(message)
                return
            raise CommandError(message)
        counts = demo.seed(n=agreements, seed=seed, as_of=as_of)
        self.stdout.write(self.style.SUCCESS(
            _("Created %(agreements)d agreements, %(parties)d regional parties, %(milestones)d milestones and "
              "%(milestone_updates)d milestone updates (seed %(seed)d, as of %(as_of)s).")
            % {**counts, "seed": seed, "as_of": as_of.isoformat()}
        ))
        self.stdout.write(_("Demo accounts (password: %(password)s):") % {"password": demo.DEMO_PASSWORD})
        for username, role, code, _first, _last in demo.DEMO_USERS:
            where = f" {code}" if code else ""
            self.stdout.write(f"  {username:<14} {role}{where}")
        self.stdout.write(
            _("Administrator: user %(user)s, password %(password)s at /admin/")
            % {"user": "admin", "password": demo.DEMO_PASSWORD}
        )
