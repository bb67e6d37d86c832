from django.core.management.base import BaseCommand, CommandError

from credits.reconciliation import reconcile


class Command(BaseCommand):
    help = "Check every accounting invariant over the whole database; exit 1 on any breach."

    def handle(self, *args, **options):
        results = reconcile()
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
