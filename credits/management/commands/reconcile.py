from django.core.management.base import BaseCommand, CommandError

from credits.reconciliation import reconciliation_run


class Command(BaseCommand):
    help = (
        "Check every accounting invariant over the whole database (or, with --incremental, "
        "over what changed since the last clean run); exit 1 on any breach. A clean run "
        "records a checkpoint."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--incremental",
            action="store_true",
            help="Check only what changed since the last clean run (everything if none).",
        )

    def handle(self, *args, incremental=False, **options):
        run = reconciliation_run(incremental=incremental)
        if incremental:
            self.stdout.write(
                f"Incremental: what changed since the clean run started {run.since.started_at:%Y-%m-%d %H:%M:%S %Z}."
                if run.since
                else "Incremental: no clean run recorded yet, so everything is checked."
            )
        results = run.results
        failed = 0
        for name, breaches in results.items():
            if breaches:
                failed += 1
                self.stdout.write(self.style.ERROR(f"FAIL  {name} ({len(breaches)} breaches)"))
                for breach in breaches[:50]:
                    self.stdout.write(f"      - {breach}")
                if len(breaches) > 50:
                    self.stdout.write(f"      ... and {len(breaches) - 50} more")
            else:
                self.stdout.write(self.style.SUCCESS(f"ok    {name}"))
        if failed:
            raise CommandError(f"{failed} of {len(results)} invariants are broken; see above.")
        self.stdout.write(self.style.SUCCESS(f"All {len(results)} invariants hold."))
